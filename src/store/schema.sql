-- claimsweep database schema. Tables mirror CONTRACT §1 with normalised values:
-- ID numbers in 18-digit upper-case form, dates as 'YYYY-MM-DD', money as integer fen
-- (columns ending in _fen), enumerations as their English codes, level as 1..5 or NULL.
-- `extra` keeps unknown input columns as a JSON object; `ingest_id` is the ingest that
-- brought this version of the row (an unchanged row is never rewritten; changed and absent
-- rows keep their old versions in `<table>_history`). Stages may add tables and columns; they
-- never remove or rename these.

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS ingests (
  ingest_id INTEGER PRIMARY KEY,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  source TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  counts_json TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS rejects (
  ingest_id INTEGER NOT NULL,
  table_name TEXT NOT NULL,
  file TEXT NOT NULL,
  line INTEGER NOT NULL,
  column_name TEXT,
  reason TEXT NOT NULL,
  raw TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS claims (
  claim_id TEXT PRIMARY KEY,
  id_number TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  bank_account TEXT NOT NULL DEFAULT '',
  category TEXT,
  county_code TEXT NOT NULL DEFAULT '',
  institution_id TEXT NOT NULL DEFAULT '',
  class_id TEXT NOT NULL DEFAULT '',
  subsidy_type TEXT,
  occupation_code TEXT NOT NULL DEFAULT '',
  level INTEGER,
  cert_no TEXT NOT NULL DEFAULT '',
  funding_source TEXT,
  amount_fen INTEGER NOT NULL,
  living_days INTEGER NOT NULL DEFAULT 0,
  living_amount_fen INTEGER NOT NULL DEFAULT 0,
  claim_date TEXT NOT NULL,
  extra TEXT,
  ingest_id INTEGER
);

CREATE TABLE IF NOT EXISTS classes (
  class_id TEXT PRIMARY KEY,
  institution_id TEXT NOT NULL DEFAULT '',
  county_code TEXT NOT NULL DEFAULT '',
  occupation_code TEXT NOT NULL DEFAULT '',
  level INTEGER,
  training_type TEXT,
  start_date TEXT NOT NULL,
  end_date TEXT NOT NULL,
  hours INTEGER NOT NULL DEFAULT 0,
  project_based INTEGER NOT NULL DEFAULT 0,
  extra TEXT,
  ingest_id INTEGER
);

CREATE TABLE IF NOT EXISTS institutions (
  institution_id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  county_code TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT '',
  legal_rep_id TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT '',
  extra TEXT,
  ingest_id INTEGER
);

CREATE TABLE IF NOT EXISTS certificates (
  cert_no TEXT PRIMARY KEY,
  id_number TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  occupation_code TEXT NOT NULL DEFAULT '',
  level INTEGER,
  cert_type TEXT NOT NULL DEFAULT '',
  issue_date TEXT,
  extra TEXT,
  ingest_id INTEGER
);

CREATE TABLE IF NOT EXISTS projects (
  class_id TEXT PRIMARY KEY,
  trainees INTEGER NOT NULL DEFAULT 0,
  employed_claimed INTEGER NOT NULL DEFAULT 0,
  total_amount_fen INTEGER NOT NULL,
  prepaid_amount_fen INTEGER NOT NULL,
  paid_amount_fen INTEGER NOT NULL DEFAULT 0,
  check_date TEXT,
  extra TEXT,
  ingest_id INTEGER
);

-- Keyless tables are keyed by all their columns: a repeated identical row is a duplicate.
CREATE TABLE IF NOT EXISTS employment (
  id_number TEXT NOT NULL,
  employer_id TEXT NOT NULL,
  start_date TEXT NOT NULL,
  end_date TEXT,
  extra TEXT,
  ingest_id INTEGER,
  PRIMARY KEY (id_number, employer_id, start_date)
);

CREATE TABLE IF NOT EXISTS staff (
  institution_id TEXT NOT NULL,
  id_number TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT '',
  extra TEXT,
  ingest_id INTEGER,
  PRIMARY KEY (institution_id, id_number)
);

CREATE TABLE IF NOT EXISTS registry_pension (
  id_number TEXT PRIMARY KEY,
  start_date TEXT NOT NULL,
  extra TEXT,
  ingest_id INTEGER
);

CREATE TABLE IF NOT EXISTS registry_death (
  id_number TEXT PRIMARY KEY,
  death_date TEXT NOT NULL,
  extra TEXT,
  ingest_id INTEGER
);

CREATE TABLE IF NOT EXISTS registry_ui (
  id_number TEXT NOT NULL,
  months_paid INTEGER NOT NULL,
  as_of TEXT NOT NULL DEFAULT '',
  extra TEXT,
  ingest_id INTEGER,
  PRIMARY KEY (id_number, as_of)
);

CREATE TABLE IF NOT EXISTS registry_poverty (
  id_number TEXT PRIMARY KEY,
  extra TEXT,
  ingest_id INTEGER
);

CREATE TABLE IF NOT EXISTS living_standards (
  county_code TEXT NOT NULL,
  year INTEGER NOT NULL,
  monthly_amount_fen INTEGER NOT NULL,
  extra TEXT,
  ingest_id INTEGER,
  PRIMARY KEY (county_code, year)
);

-- The ledger's history. A row of a ledger table is one version of a record, valid from the
-- ingest that brought it (`ingest_id`) on. When a later ingest brings a changed version, or
-- its extract of the table no longer has the record ("absent"), the old version moves here
-- with the ingest that superseded it. The ledger as ingest N left it is every current row with
-- ingest_id <= N and every history row with ingest_id <= N < superseded_ingest_id
-- (store::history::LedgerState): a sweep records the ingest it judged, and its evidence is
-- read from that state.
CREATE TABLE IF NOT EXISTS claims_history (
  claim_id TEXT,
  id_number TEXT,
  name TEXT,
  phone TEXT,
  bank_account TEXT,
  category TEXT,
  county_code TEXT,
  institution_id TEXT,
  class_id TEXT,
  subsidy_type TEXT,
  occupation_code TEXT,
  level INTEGER,
  cert_no TEXT,
  funding_source TEXT,
  amount_fen INTEGER,
  living_days INTEGER,
  living_amount_fen INTEGER,
  claim_date TEXT,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_history_key ON claims_history(claim_id);
CREATE TABLE IF NOT EXISTS classes_history (
  class_id TEXT,
  institution_id TEXT,
  county_code TEXT,
  occupation_code TEXT,
  level INTEGER,
  training_type TEXT,
  start_date TEXT,
  end_date TEXT,
  hours INTEGER,
  project_based INTEGER,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS classes_history_key ON classes_history(class_id);
CREATE TABLE IF NOT EXISTS institutions_history (
  institution_id TEXT,
  name TEXT,
  county_code TEXT,
  kind TEXT,
  legal_rep_id TEXT,
  phone TEXT,
  address TEXT,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS institutions_history_key ON institutions_history(institution_id);
CREATE TABLE IF NOT EXISTS certificates_history (
  cert_no TEXT,
  id_number TEXT,
  name TEXT,
  occupation_code TEXT,
  level INTEGER,
  cert_type TEXT,
  issue_date TEXT,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS certificates_history_key ON certificates_history(cert_no);
CREATE TABLE IF NOT EXISTS projects_history (
  class_id TEXT,
  trainees INTEGER,
  employed_claimed INTEGER,
  total_amount_fen INTEGER,
  prepaid_amount_fen INTEGER,
  paid_amount_fen INTEGER,
  check_date TEXT,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS projects_history_key ON projects_history(class_id);
CREATE TABLE IF NOT EXISTS employment_history (
  id_number TEXT,
  employer_id TEXT,
  start_date TEXT,
  end_date TEXT,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS employment_history_key ON employment_history(id_number, employer_id, start_date);
CREATE TABLE IF NOT EXISTS staff_history (
  institution_id TEXT,
  id_number TEXT,
  role TEXT,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS staff_history_key ON staff_history(institution_id, id_number);
CREATE TABLE IF NOT EXISTS registry_pension_history (
  id_number TEXT,
  start_date TEXT,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS registry_pension_history_key ON registry_pension_history(id_number);
CREATE TABLE IF NOT EXISTS registry_death_history (
  id_number TEXT,
  death_date TEXT,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS registry_death_history_key ON registry_death_history(id_number);
CREATE TABLE IF NOT EXISTS registry_ui_history (
  id_number TEXT,
  months_paid INTEGER,
  as_of TEXT,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS registry_ui_history_key ON registry_ui_history(id_number, as_of);
CREATE TABLE IF NOT EXISTS registry_poverty_history (
  id_number TEXT,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS registry_poverty_history_key ON registry_poverty_history(id_number);
CREATE TABLE IF NOT EXISTS living_standards_history (
  county_code TEXT,
  year INTEGER,
  monthly_amount_fen INTEGER,
  extra TEXT,
  ingest_id INTEGER,
  superseded_ingest_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS living_standards_history_key ON living_standards_history(county_code, year);

-- Which input tables any ingest has seen (a sweep skips rules whose tables never came).
CREATE TABLE IF NOT EXISTS tables_present (table_name TEXT PRIMARY KEY, first_ingest_id INTEGER);

-- Sweeps and their flags. Older sweeps are kept.
CREATE TABLE IF NOT EXISTS sweeps (
  sweep_id INTEGER PRIMARY KEY,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  policy TEXT NOT NULL,           -- PolicySet::fingerprint(): file@sha256 of each policy
  ingest_id INTEGER,              -- latest ingest the sweep saw
  threads INTEGER NOT NULL,
  claims INTEGER NOT NULL DEFAULT 0,
  summary_json TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS flags (
  sweep_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,            -- order within the sweep (deterministic)
  rule TEXT NOT NULL,
  subject_kind TEXT NOT NULL,      -- person | person_year | claim | contact | project | ...
  subject TEXT NOT NULL,
  claim_ids TEXT NOT NULL,         -- ';'-separated, sorted
  amount_at_risk_fen INTEGER NOT NULL,
  severity TEXT NOT NULL,
  explanation_zh TEXT NOT NULL,
  explanation_en TEXT NOT NULL,
  facts_json TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (sweep_id, seq)
) WITHOUT ROWID; -- rows arrive in key order: the key's B-tree is the table, no second copy

-- Claims no policy covers (by training date), per sweep: listed, never skipped in silence.
CREATE TABLE IF NOT EXISTS unjudged_claims (
  sweep_id INTEGER NOT NULL,
  claim_id TEXT NOT NULL,
  training_date TEXT NOT NULL,     -- the class's start date, else the claim date
  claim_date TEXT NOT NULL,
  PRIMARY KEY (sweep_id, claim_id)
);

-- Identity resolution of a sweep: every ID number of a person with several, the person's
-- smallest ID number, and the links (evidence) that made them one person.
CREATE TABLE IF NOT EXISTS person_ids (
  sweep_id INTEGER NOT NULL,
  id_number TEXT NOT NULL,
  person TEXT NOT NULL,            -- the person's smallest ID number
  PRIMARY KEY (sweep_id, id_number)
);
CREATE TABLE IF NOT EXISTS person_links (
  sweep_id INTEGER NOT NULL,
  person TEXT NOT NULL,
  id_a TEXT NOT NULL,
  id_b TEXT NOT NULL,
  birth_date TEXT NOT NULL,        -- the birth date both ID numbers carry
  via TEXT NOT NULL,               -- phone | bank_account
  contact TEXT NOT NULL,           -- the shared phone or bank account
  name_a TEXT NOT NULL,
  name_b TEXT NOT NULL,
  name_match TEXT NOT NULL         -- same | spelling | homophone | typing | romanised
);

CREATE TABLE IF NOT EXISTS flag_claims (
  sweep_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  claim_id TEXT NOT NULL
);

-- Flag explanations, compressed: the explanations of flags first_seq .. first_seq + flags − 1
-- of a sweep (blocks of `store::flags::TEXT_BLOCK` flags), each language as zstd of
-- length-prefixed UTF-8 texts. A `flags` row whose explanation columns are both empty has its
-- explanations here (`store::flags::flag_texts`); rows of older sweeps hold them inline.
CREATE TABLE IF NOT EXISTS flag_texts (
  sweep_id INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  zh BLOB NOT NULL,
  en BLOB NOT NULL,
  PRIMARY KEY (sweep_id, first_seq)
);
