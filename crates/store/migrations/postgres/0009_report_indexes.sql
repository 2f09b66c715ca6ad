-- An index for the report queries (Store::holdings, Store::asset_totals and the other queries of
-- crates/store/src/reports.rs), so that they read the asset's outputs from one index instead of
-- looking every output row up in the table.
--
-- Covers every column the holdings, totals and active-holder queries read of an asset's
-- outputs, in the order of the holdings grouping (owner kind, GAID) so that SQLite groups while
-- reading the index, then the filters (heights), the sums (amount) and the flow joins.
CREATE INDEX asset_outputs_reports ON asset_outputs
    (asset_uuid, is_token, owner, gaid, height, spent_height, amount, txid, spent_txid,
     is_blacklisted);
