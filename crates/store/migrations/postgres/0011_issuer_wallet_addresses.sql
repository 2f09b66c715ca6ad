-- The one address each issuer gets for a registered wallet that none of its registered users
-- holds (GET /api/gaids/{gaid}/address for another issuer's investor): handed out once and
-- answered again on every later call, so no issuer can push a wallet it does not register past
-- its wallet's gap limit by asking for addresses in a loop.
CREATE TABLE issuer_wallet_addresses (
    issuer_id  BIGINT      NOT NULL REFERENCES issuers (id),
    wid        TEXT        NOT NULL REFERENCES registered_wallets (wid),
    address    TEXT        NOT NULL REFERENCES wallet_addresses (address),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issuer_id, wid)
);
