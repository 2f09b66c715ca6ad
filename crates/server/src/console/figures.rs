//! How the console shows numbers: amounts in the asset's precision next to base units, and the
//! cap table's ownership shares as an SVG chart drawn on the server.

use maud::{html, Markup};

/// `units` base units in an asset of `precision` decimals, with thousands separators:
/// `1234567` at precision 2 is `12,345.67`.
pub fn amount(units: i64, precision: u8) -> String {
    let precision = u32::from(precision.min(18));
    let scale = 10u128.pow(precision);
    let magnitude = u128::from(units.unsigned_abs());
    let whole = group(magnitude / scale);
    let sign = if units < 0 { "-" } else { "" };
    match precision {
        0 => format!("{sign}{whole}"),
        p => format!(
            "{sign}{whole}.{:0width$}",
            magnitude % scale,
            width = p as usize
        ),
    }
}

/// `n` with `,` between groups of three digits.
pub fn group(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The amount cell: the amount in the asset's precision, and the base units beside it when
/// they differ.
pub fn amount_cell(units: i64, precision: u8) -> Markup {
    html! {
        span.amount { (amount(units, precision)) }
        @if precision > 0 {
            " " span.units { "(" (group(u128::from(units.unsigned_abs()))) " units)" }
        }
    }
}

/// Most holders drawn one by one; the rest are one "others" bar.
const CHART_ROWS: usize = 8;

/// A horizontal bar chart of `holders` (label, base units): the largest [`CHART_ROWS`] and the
/// rest together, each with its share of the total, as inline SVG.
pub fn share_chart(holders: &[(String, i64)]) -> Markup {
    let total: i128 = holders.iter().map(|(_, a)| i128::from((*a).max(0))).sum();
    let mut sorted: Vec<&(String, i64)> = holders.iter().filter(|(_, a)| *a > 0).collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut rows: Vec<(String, i128)> = sorted
        .iter()
        .take(CHART_ROWS)
        .map(|(label, a)| (label.clone(), i128::from(*a)))
        .collect();
    if sorted.len() > CHART_ROWS {
        let rest: i128 = sorted[CHART_ROWS..]
            .iter()
            .map(|(_, a)| i128::from(*a))
            .sum();
        rows.push((format!("{} others", sorted.len() - CHART_ROWS), rest));
    }
    const ROW: usize = 26;
    const WIDTH: f64 = 560.0;
    const LABEL: f64 = 180.0;
    let height = (rows.len().max(1) * ROW + 4).to_string();
    html! {
        svg.chart role="img" viewBox={ "0 0 " (WIDTH + 70.0) " " (height) } width="100%"
            aria-label="Ownership shares" {
            title { "Ownership shares" }
            @if total == 0 {
                text x="0" y="18" { "No holdings yet." }
            }
            @for (i, (label, units)) in rows.iter().enumerate() {
                @let share = if total > 0 { *units as f64 / total as f64 } else { 0.0 };
                @let y = i * ROW;
                text x="0" y=(y + 17) class="label" { (truncate(label, 26)) }
                rect x=(LABEL) y=(y + 4) height="18" rx="2" class={ "bar bar" (i % 4) }
                    width=(format!("{:.1}", (share * (WIDTH - LABEL)).max(1.0))) {}
                text x=(format!("{:.1}", LABEL + share * (WIDTH - LABEL) + 6.0)) y=(y + 17)
                    class="share" { (percent(share)) }
            }
        }
    }
}

/// `share` (0–1) as a percentage with one decimal.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_precision() {
        assert_eq!(amount(1_234_567, 2), "12,345.67");
        assert_eq!(amount(5, 8), "0.00000005");
        assert_eq!(amount(1_000_000, 0), "1,000,000");
        assert_eq!(amount(-1050, 3), "-1.050");
        assert_eq!(amount(i64::MIN, 0), "-9,223,372,036,854,775,808");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
    }

    #[test]
    fn the_chart_draws_the_largest_holders_and_groups_the_rest() {
        let holders: Vec<(String, i64)> =
            (1..=10).map(|i| (format!("holder {i}"), i * 10)).collect();
        let svg = share_chart(&holders).into_string();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), CHART_ROWS + 1);
        // 100 of 550 units, the largest first
        assert!(svg.contains("holder 10") && svg.contains("18.2%"), "{svg}");
        assert!(svg.contains("2 others") && svg.contains("5.5%"), "{svg}");
        assert!(!svg.contains("holder 1<"), "{svg}");
        let empty = share_chart(&[]).into_string();
        assert!(empty.contains("No holdings yet."));
    }

    #[test]
    fn labels_are_escaped() {
        let svg = share_chart(&[("<b>".into(), 1)]).into_string();
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"), "{svg}");
    }
}
