/**
 * Numbered, append-only schema migrations. A shipped migration is never edited: a change is
 * a new entry with the next number. Times are epoch seconds; names are canonical
 * (lower case, no trailing dot).
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const m0001 = `
CREATE TABLE users (
  id              INTEGER PRIMARY KEY,
  email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash   TEXT,                       -- argon2id; NULL until an invitation is accepted
  role            TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin','user')),
  disabled        INTEGER NOT NULL DEFAULT 0,
  email_confirmed INTEGER NOT NULL DEFAULT 0,
  totp_secret     TEXT,                       -- base32; needed in clear to compute pins
  totp_enabled    INTEGER NOT NULL DEFAULT 0,
  totp_last_step  INTEGER,                    -- last accepted time step: a pin is never replayed
  quota_hostnames INTEGER,                    -- NULL: the default from settings
  quota_domains   INTEGER,
  quota_records   INTEGER,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

CREATE TABLE sessions (
  id          TEXT PRIMARY KEY,               -- the JWT's jti
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  revoked_at  INTEGER,
  address     TEXT,
  user_agent  TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_keys (
  id           INTEGER PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label        TEXT NOT NULL DEFAULT '',
  token_hash   TEXT NOT NULL UNIQUE,
  hint         TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  revoked_at   INTEGER
);

CREATE TABLE recovery_codes (
  id         INTEGER PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash  TEXT NOT NULL,
  used_at    INTEGER
);

-- Single-use secrets sent as links or codes: admin setup, invitations, password resets,
-- e-mail confirmations, second-factor login tickets.
CREATE TABLE one_time_tokens (
  id          INTEGER PRIMARY KEY,
  purpose     TEXT NOT NULL CHECK (purpose IN ('setup','invite','reset','confirm','login2fa')),
  token_hash  TEXT NOT NULL UNIQUE,
  user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
  email       TEXT,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER
);

CREATE TABLE domains (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  kind         TEXT NOT NULL CHECK (kind IN ('builtin','custom')),
  owner_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,  -- NULL for built-in zones
  verified     INTEGER NOT NULL DEFAULT 1,     -- custom domains are served once verified
  verified_at  INTEGER,
  serial       INTEGER NOT NULL,
  soa_mname    TEXT NOT NULL,
  soa_rname    TEXT NOT NULL,
  soa_refresh  INTEGER NOT NULL DEFAULT 3600,
  soa_retry    INTEGER NOT NULL DEFAULT 600,
  soa_expire   INTEGER NOT NULL DEFAULT 1209600,
  soa_minimum  INTEGER NOT NULL DEFAULT 60,
  soa_ttl      INTEGER NOT NULL DEFAULT 3600,
  ns_ttl       INTEGER NOT NULL DEFAULT 3600,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);

-- The apex NS set of a zone, with glue addresses for in-zone names.
CREATE TABLE domain_nameservers (
  id         INTEGER PRIMARY KEY,
  domain_id  INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  ipv4       TEXT,
  ipv6       TEXT,
  position   INTEGER NOT NULL DEFAULT 0,
  UNIQUE (domain_id, name)
);

CREATE TABLE hostnames (
  id             INTEGER PRIMARY KEY,
  domain_id      INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  name           TEXT NOT NULL UNIQUE,
  owner_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  ipv4           TEXT,
  ipv6           TEXT,
  ipv6_ifid      TEXT,                         -- interface id kept across IPv6 prefix updates
  ttl            INTEGER NOT NULL DEFAULT 60,
  description    TEXT NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  last_update_at INTEGER
);
CREATE INDEX hostnames_domain ON hostnames(domain_id);
CREATE INDEX hostnames_owner ON hostnames(owner_id);

-- An update token covers one hostname ('host'), a chosen set of its owner's hostnames
-- ('set', listed in update_token_hosts) or all of them ('all').
CREATE TABLE update_tokens (
  id           INTEGER PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  label        TEXT NOT NULL DEFAULT '',
  token_hash   TEXT NOT NULL UNIQUE,
  hint         TEXT NOT NULL,
  scope        TEXT NOT NULL CHECK (scope IN ('host','set','all')),
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
);
CREATE TABLE update_token_hosts (
  token_id     INTEGER NOT NULL REFERENCES update_tokens(id) ON DELETE CASCADE,
  hostname_id  INTEGER NOT NULL REFERENCES hostnames(id) ON DELETE CASCADE,
  PRIMARY KEY (token_id, hostname_id)
);
CREATE INDEX update_token_hosts_host ON update_token_hosts(hostname_id);

-- Static records; content is the RDATA in presentation format.
CREATE TABLE records (
  id          INTEGER PRIMARY KEY,
  domain_id   INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  type        TEXT NOT NULL,
  ttl         INTEGER NOT NULL DEFAULT 3600,
  content     TEXT NOT NULL,
  hostname_id INTEGER REFERENCES hostnames(id) ON DELETE CASCADE,  -- set for ACME TXT of a host
  expires_at  INTEGER,                                             -- ACME challenge TXT expire
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX records_domain ON records(domain_id);
CREATE INDEX records_name ON records(name);

CREATE TABLE update_log (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  hostname_id INTEGER REFERENCES hostnames(id) ON DELETE CASCADE,
  hostname    TEXT NOT NULL,
  token_id    INTEGER REFERENCES update_tokens(id) ON DELETE SET NULL,
  source      TEXT,
  user_agent  TEXT,
  old_ipv4    TEXT,
  old_ipv6    TEXT,
  new_ipv4    TEXT,
  new_ipv6    TEXT,
  result      TEXT NOT NULL
);
CREATE INDEX update_log_host ON update_log(hostname_id, at);

CREATE TABLE install_codes (
  id                  INTEGER PRIMARY KEY,
  code_hash           TEXT NOT NULL UNIQUE,
  hint                TEXT NOT NULL,
  role                TEXT NOT NULL CHECK (role IN ('agent','secondary')),
  hostname            TEXT,
  state               TEXT NOT NULL CHECK (state IN ('issued','prechecked','activated','confirmed','expired','revoked')),
  issued_by           INTEGER REFERENCES users(id) ON DELETE SET NULL,
  issued_from         TEXT,
  issued_at           INTEGER NOT NULL,
  expires_at          INTEGER NOT NULL,
  machine_id          TEXT,
  ssh_fingerprint     TEXT,
  precheck_token_hash TEXT,
  precheck_expires_at INTEGER,
  revoked_at          INTEGER,
  consumed_at         INTEGER
);

CREATE TABLE activations (
  id                        TEXT PRIMARY KEY,
  code_id                   INTEGER NOT NULL REFERENCES install_codes(id) ON DELETE CASCADE,
  install_token_hash        TEXT NOT NULL UNIQUE,
  install_token_expires_at  INTEGER NOT NULL,
  install_token_used_at     INTEGER,
  hostname                  TEXT,
  public_ip                 TEXT,
  machine_id                TEXT NOT NULL,
  ssh_fingerprint           TEXT,
  source                    TEXT,
  created_at                INTEGER NOT NULL,
  confirmed_at              INTEGER,
  released_at               INTEGER
);

-- Enrolled machines: home agents and secondary nameservers.
CREATE TABLE nodes (
  id               INTEGER PRIMARY KEY,
  role             TEXT NOT NULL CHECK (role IN ('agent','secondary')),
  name             TEXT NOT NULL,
  machine_id       TEXT NOT NULL,
  ssh_fingerprint  TEXT,
  public_ip        TEXT,
  activation_id    TEXT REFERENCES activations(id) ON DELETE SET NULL,
  credential_hash  TEXT NOT NULL UNIQUE,
  tsig_name        TEXT,
  tsig_secret      TEXT,                        -- HMAC key: must be kept to sign transfers
  hostname_id      INTEGER REFERENCES hostnames(id) ON DELETE SET NULL,
  status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','active','revoked')),
  version          TEXT,
  created_at       INTEGER NOT NULL,
  last_checkin_at  INTEGER,
  revoked_at       INTEGER
);

CREATE TABLE settings (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);

CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  actor_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
  actor     TEXT NOT NULL,                     -- "user:3", "cli", "system", "token:7"
  action    TEXT NOT NULL,
  target    TEXT,
  address   TEXT,
  detail    TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
`;

// Pruning the update history by age scans update_log by time.
const m0020 = `CREATE INDEX update_log_at ON update_log(at);`;

// The server asks for the next ACME TXT expiry after every challenge it stores and on every
// reload: a partial index keeps that a lookup among the few expiring rows.
const m0025 = `
CREATE INDEX records_expires ON records(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX records_hostname ON records(hostname_id) WHERE hostname_id IS NOT NULL;
`;

// Install lifecycle (issue 6): attempts counted for the install API's rate limits, kept in the
// database so a restart does not reset them; and the update token an agent node was given, so
// releasing or revoking the node revokes exactly that token.
const m0040 = `
CREATE TABLE install_rate_events (
  id      INTEGER PRIMARY KEY,
  bucket  TEXT NOT NULL,
  key     TEXT NOT NULL,
  at      INTEGER NOT NULL
);
CREATE INDEX install_rate_events_key ON install_rate_events(bucket, key, at);
ALTER TABLE nodes ADD COLUMN update_token_id INTEGER REFERENCES update_tokens(id) ON DELETE SET NULL;
`;

// Where a secondary takes NOTIFY when not on port 53 (NULL: 53).
const m0041 = `ALTER TABLE nodes ADD COLUMN dns_port INTEGER;`;

// The change log (issue 12): every write that changes what a zone serves leaves a row naming the
// zone and the owner name (NULL: the whole zone, for NS sets, SOA fields and the zone itself),
// written by triggers so that no writer, in this process or another, can forget it. The server
// reads the rows after the sequence number it has applied and re-reads only those names.
const m0060 = `
CREATE TABLE zone_changes (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  domain_id  INTEGER NOT NULL,
  name       TEXT
);
CREATE TRIGGER zone_changes_host_insert AFTER INSERT ON hostnames BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (new.domain_id, new.name);
END;
CREATE TRIGGER zone_changes_host_delete AFTER DELETE ON hostnames BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.domain_id, old.name);
END;
CREATE TRIGGER zone_changes_host_update AFTER UPDATE OF name, domain_id, ipv4, ipv6, ttl ON hostnames
WHEN old.name IS NOT new.name OR old.domain_id IS NOT new.domain_id OR old.ipv4 IS NOT new.ipv4 OR old.ipv6 IS NOT new.ipv6 OR old.ttl IS NOT new.ttl
BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.domain_id, old.name);
  INSERT INTO zone_changes (domain_id, name) SELECT new.domain_id, new.name WHERE old.name IS NOT new.name OR old.domain_id IS NOT new.domain_id;
END;
CREATE TRIGGER zone_changes_record_insert AFTER INSERT ON records BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (new.domain_id, new.name);
END;
CREATE TRIGGER zone_changes_record_delete AFTER DELETE ON records BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.domain_id, old.name);
END;
CREATE TRIGGER zone_changes_record_update AFTER UPDATE OF name, domain_id, type, ttl, content, expires_at ON records
WHEN old.name IS NOT new.name OR old.domain_id IS NOT new.domain_id OR old.type IS NOT new.type OR old.ttl IS NOT new.ttl
  OR old.content IS NOT new.content OR old.expires_at IS NOT new.expires_at
BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.domain_id, old.name);
  INSERT INTO zone_changes (domain_id, name) SELECT new.domain_id, new.name WHERE old.name IS NOT new.name OR old.domain_id IS NOT new.domain_id;
END;
CREATE TRIGGER zone_changes_ns_insert AFTER INSERT ON domain_nameservers BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (new.domain_id, NULL);
END;
CREATE TRIGGER zone_changes_ns_delete AFTER DELETE ON domain_nameservers BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.domain_id, NULL);
END;
CREATE TRIGGER zone_changes_ns_update AFTER UPDATE ON domain_nameservers BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.domain_id, NULL);
END;
CREATE TRIGGER zone_changes_domain_insert AFTER INSERT ON domains BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (new.id, NULL);
END;
CREATE TRIGGER zone_changes_domain_delete AFTER DELETE ON domains BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.id, NULL);
END;
CREATE TRIGGER zone_changes_domain_update AFTER UPDATE OF name, verified, soa_mname, soa_rname, soa_refresh, soa_retry, soa_expire,
  soa_minimum, soa_ttl, ns_ttl ON domains
WHEN old.name IS NOT new.name OR old.verified IS NOT new.verified OR old.soa_mname IS NOT new.soa_mname OR old.soa_rname IS NOT new.soa_rname
  OR old.soa_refresh IS NOT new.soa_refresh OR old.soa_retry IS NOT new.soa_retry OR old.soa_expire IS NOT new.soa_expire
  OR old.soa_minimum IS NOT new.soa_minimum OR old.soa_ttl IS NOT new.soa_ttl OR old.ns_ttl IS NOT new.ns_ttl
BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.id, NULL);
END;
`;

// A changed name's records are read by (zone, name): without this the planner chose the zone's
// index, a scan of the whole zone for every changed name.
const m0061 = `CREATE INDEX records_domain_name ON records(domain_id, name);`;

// DNS UPDATE keys of update tokens: the name is what a signed message names (unique, looked up
// per message); the secret is sealed (store/sealed.ts), never in clear.
const m0080 = `
ALTER TABLE update_tokens ADD COLUMN tsig_name TEXT;
ALTER TABLE update_tokens ADD COLUMN tsig_algorithm TEXT;
ALTER TABLE update_tokens ADD COLUMN tsig_secret TEXT;
CREATE UNIQUE INDEX update_tokens_tsig_name ON update_tokens(tsig_name) WHERE tsig_name IS NOT NULL;
`;

// DNSSEC (issue 16): zones are signed unless turned off (domains.dnssec); one combined signing
// key per zone, its private half (PKCS#8 DER, base64) sealed with the data directory's key
// (store/sealed.ts); and the signatures made, with a digest of the RRset each covers, so a
// restart reuses every one that still covers the same data. A key or the switch changing makes
// the zone load afresh (zone_changes with no name).
const m0070 = `
ALTER TABLE domains ADD COLUMN dnssec INTEGER NOT NULL DEFAULT 1;
CREATE TABLE dnssec_keys (
  id           INTEGER PRIMARY KEY,
  domain_id    INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  algorithm    INTEGER NOT NULL,
  flags        INTEGER NOT NULL DEFAULT 257,
  private_key  TEXT NOT NULL,
  state        TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','published','retired')),
  created_at   INTEGER NOT NULL
);
CREATE INDEX dnssec_keys_domain ON dnssec_keys(domain_id);
CREATE TABLE dnssec_signatures (
  domain_id  INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  owner      TEXT NOT NULL,
  type       INTEGER NOT NULL,
  ttl        INTEGER NOT NULL,
  digest     BLOB NOT NULL,
  rrsig      BLOB NOT NULL,
  PRIMARY KEY (domain_id, owner, type)
) WITHOUT ROWID;
CREATE TRIGGER zone_changes_dnssec_switch AFTER UPDATE OF dnssec ON domains WHEN old.dnssec IS NOT new.dnssec BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.id, NULL);
END;
CREATE TRIGGER zone_changes_dnssec_key_insert AFTER INSERT ON dnssec_keys BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (new.domain_id, NULL);
END;
CREATE TRIGGER zone_changes_dnssec_key_delete AFTER DELETE ON dnssec_keys BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.domain_id, NULL);
END;
CREATE TRIGGER zone_changes_dnssec_key_state AFTER UPDATE OF state ON dnssec_keys WHEN old.state IS NOT new.state BEGIN
  INSERT INTO zone_changes (domain_id, name) VALUES (old.domain_id, NULL);
END;
`;

// Token policies (core/token-policy.ts) as one JSON object: optional, read with the token.
const m0081 = `ALTER TABLE update_tokens ADD COLUMN policy TEXT;`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "initial data model", sql: m0001 },
  { version: 20, name: "update log by time", sql: m0020 },
  { version: 25, name: "indexes for expiring ACME challenge records", sql: m0025 },
  { version: 40, name: "install rate events, node update token", sql: m0040 },
  { version: 41, name: "secondary DNS port for NOTIFY", sql: m0041 },
  { version: 60, name: "zone change log", sql: m0060 },
  { version: 61, name: "records by zone and name", sql: m0061 },
  { version: 70, name: "DNSSEC keys and signatures", sql: m0070 },
  { version: 80, name: "TSIG keys of update tokens", sql: m0080 },
  { version: 81, name: "update token policies", sql: m0081 },
];

export const LATEST_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
