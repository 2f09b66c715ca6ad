//! The record files of the node's data directory (`blocks.dat`, `mempool.dat`, a wallet's
//! `transactions.dat`): a sequence of `u32 LE length ‖ bytes` records, appended or rewritten
//! whole.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::Path;

/// Splits a file of records (none when the file does not exist). A torn final record (the
/// process died while appending) is dropped and the file cut back to the last complete record,
/// as a node recovering from an unclean shutdown discards the partial write.
pub(crate) fn read(path: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut data = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut data)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    }
    let mut records = Vec::new();
    let mut offset = 0usize;
    while offset < data.len() {
        let rest = &data[offset..];
        let len = rest
            .get(..4)
            .map(|l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize);
        match len {
            Some(len) if rest.len() >= 4 + len => {
                records.push(rest[4..4 + len].to_vec());
                offset += 4 + len;
            }
            _ => {
                tracing::warn!(path = %path.display(), offset, "dropping a torn record at the end of the file");
                OpenOptions::new()
                    .write(true)
                    .open(path)?
                    .set_len(offset as u64)?;
                break;
            }
        }
    }
    Ok(records)
}

/// `bytes` as one record.
pub(crate) fn encode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 4);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_record_is_dropped_and_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.dat");
        let mut bytes = encode(b"first");
        bytes.extend(encode(b"second"));
        let whole = bytes.len() as u64;
        bytes.extend(&encode(b"third")[..6]);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(
            read(&path).unwrap(),
            vec![b"first".to_vec(), b"second".to_vec()]
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
        assert_eq!(
            read(&dir.path().join("missing.dat")).unwrap(),
            Vec::<Vec<u8>>::new()
        );
    }
}
