-- The deterministic claimsweep rules as DuckDB SQL: the baseline of issue 15 ("national scale").
--
-- Input: a folder as `claimsweep generate` writes it (CONTRACT §1, English headers, ISO dates,
-- normalised 18-character ID numbers). Two variables must be set before this file runs:
--
--   SET VARIABLE dir = '/tmp/bench/g30k';                 -- the CSV folder
--   SET VARIABLE areacodes = '/work/wt-bench/data/areacodes.csv';  -- GB/T 2260 codes since 1981
--
-- Run it with scripts/duckdb-rules.py (python `duckdb` package 2.0.1; times every statement),
-- or with the DuckDB CLI: duckdb -cmd "SET VARIABLE dir='…'; SET VARIABLE areacodes='…'" < scripts/duckdb-rules.sql
--
-- Every number is the Linyi policy's (rules/linyi-2019.toml, 临政办发〔2019〕13号); the
-- definitions are docs/RULES.md's. Each rule materialises its flagged claim ids in a table
-- r_<rule>(claim_id); the last statement prints one count of distinct flagged claims per rule.
--
-- 15 rules: over_cap, repeated_level, amount_over_standard, living_allowance_excess,
-- skill_upgrade_ineligible, invalid_id, deceased, pensioner, age_out_of_range,
-- overlapping_training, cert_mismatch, staff_trainee, shared_contact, prepay_excess,
-- employment_rate.
-- Not here (say why in the report of issue 15):
--   identity_conflict  names are "spellings of one name" by pinyin homophones and
--                      Jaro-Winkler (src/names.rs): needs a pinyin table, not plain SQL;
--   multi_id           is made of resolved persons, whose links need the same name test;
--   employment_sham    its "employer linked to the institution" variant follows chains of
--                      links through the entity graph (src/graph/links.rs).
-- Person-level rules (over_cap, repeated_level, overlapping_training, shared_contact) count
-- ID numbers here, not resolved persons: a person with two ID numbers is two people to SQL.

-- ---------------------------------------------------------------------------------------
-- Policy numbers (rules/linyi-2019.toml)
-- ---------------------------------------------------------------------------------------
SET VARIABLE policy_from = DATE '2019-01-01';
SET VARIABLE policy_to = DATE '2021-12-31';
SET VARIABLE claims_per_year_max = 3;
SET VARIABLE living_max_days = 30;
SET VARIABLE living_days_per_month = 30;
SET VARIABLE living_eligible = ['poor', 'hardship', 'zero_employment_family'];
SET VARIABLE skill_upgrade_min_ui_months = 12;
SET VARIABLE age_min = 16;
SET VARIABLE age_max = 60;
SET VARIABLE max_persons_per_phone = 2;
SET VARIABLE max_persons_per_bank_account = 1;
SET VARIABLE prepay_max_percent = 60;
SET VARIABLE min_employment_rate_percent = 85;
SET VARIABLE cert_required_for = ['level_cert', 'no_level_cert', 'special_ability', 'career_course', 'entrepreneurship', 'golden_blue_collar', 'skill_upgrade'];

CREATE OR REPLACE TABLE amount_caps (subsidy_type VARCHAR, level TINYINT, cap DECIMAL(14, 2));
INSERT INTO amount_caps VALUES
    ('level_cert', 5, 1000), ('level_cert', 4, 1200), ('level_cert', 3, 1400),
    ('no_level_cert', NULL, 1000), ('career_course', NULL, 300), ('special_ability', NULL, 500),
    ('entrepreneurship', NULL, 1500), ('golden_blue_collar', 2, 2000), ('golden_blue_collar', 1, 5000);

-- ---------------------------------------------------------------------------------------
-- Load: every table read with explicit types (empty field = NULL)
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE TABLE claims AS SELECT * FROM read_csv(getvariable('dir') || '/claims.csv',
    header = true, auto_detect = false, dateformat = '%Y-%m-%d',
    columns = {'claim_id': 'VARCHAR', 'id_number': 'VARCHAR', 'name': 'VARCHAR', 'phone': 'VARCHAR',
               'bank_account': 'VARCHAR', 'category': 'VARCHAR', 'county_code': 'VARCHAR',
               'institution_id': 'VARCHAR', 'class_id': 'VARCHAR', 'subsidy_type': 'VARCHAR',
               'occupation_code': 'VARCHAR', 'level': 'TINYINT', 'cert_no': 'VARCHAR',
               'funding_source': 'VARCHAR', 'amount': 'DECIMAL(14,2)', 'living_days': 'INTEGER',
               'living_amount': 'DECIMAL(14,2)', 'claim_date': 'DATE'});

CREATE OR REPLACE TABLE classes AS SELECT * FROM read_csv(getvariable('dir') || '/classes.csv',
    header = true, auto_detect = false, dateformat = '%Y-%m-%d',
    columns = {'class_id': 'VARCHAR', 'institution_id': 'VARCHAR', 'county_code': 'VARCHAR',
               'occupation_code': 'VARCHAR', 'level': 'TINYINT', 'training_type': 'VARCHAR',
               'start_date': 'DATE', 'end_date': 'DATE', 'hours': 'INTEGER', 'project_based': 'TINYINT'});

CREATE OR REPLACE TABLE institutions AS SELECT * FROM read_csv(getvariable('dir') || '/institutions.csv',
    header = true, auto_detect = false,
    columns = {'institution_id': 'VARCHAR', 'name': 'VARCHAR', 'county_code': 'VARCHAR', 'kind': 'VARCHAR',
               'legal_rep_id': 'VARCHAR', 'phone': 'VARCHAR', 'address': 'VARCHAR'});

CREATE OR REPLACE TABLE certificates AS SELECT * FROM read_csv(getvariable('dir') || '/certificates.csv',
    header = true, auto_detect = false, dateformat = '%Y-%m-%d',
    columns = {'cert_no': 'VARCHAR', 'id_number': 'VARCHAR', 'name': 'VARCHAR', 'occupation_code': 'VARCHAR',
               'level': 'TINYINT', 'cert_type': 'VARCHAR', 'issue_date': 'DATE'});

CREATE OR REPLACE TABLE projects AS SELECT * FROM read_csv(getvariable('dir') || '/projects.csv',
    header = true, auto_detect = false, dateformat = '%Y-%m-%d',
    columns = {'class_id': 'VARCHAR', 'trainees': 'INTEGER', 'employed_claimed': 'INTEGER',
               'total_amount': 'DECIMAL(14,2)', 'prepaid_amount': 'DECIMAL(14,2)',
               'paid_amount': 'DECIMAL(14,2)', 'check_date': 'DATE'});

CREATE OR REPLACE TABLE employment AS SELECT * FROM read_csv(getvariable('dir') || '/employment.csv',
    header = true, auto_detect = false, dateformat = '%Y-%m-%d',
    columns = {'id_number': 'VARCHAR', 'employer_id': 'VARCHAR', 'start_date': 'DATE', 'end_date': 'DATE'});

CREATE OR REPLACE TABLE staff AS SELECT * FROM read_csv(getvariable('dir') || '/staff.csv',
    header = true, auto_detect = false,
    columns = {'institution_id': 'VARCHAR', 'id_number': 'VARCHAR', 'role': 'VARCHAR'});

CREATE OR REPLACE TABLE registry_pension AS SELECT * FROM read_csv(getvariable('dir') || '/registry_pension.csv',
    header = true, auto_detect = false, dateformat = '%Y-%m-%d',
    columns = {'id_number': 'VARCHAR', 'start_date': 'DATE'});

CREATE OR REPLACE TABLE registry_death AS SELECT * FROM read_csv(getvariable('dir') || '/registry_death.csv',
    header = true, auto_detect = false, dateformat = '%Y-%m-%d',
    columns = {'id_number': 'VARCHAR', 'death_date': 'DATE'});

CREATE OR REPLACE TABLE registry_ui AS SELECT * FROM read_csv(getvariable('dir') || '/registry_ui.csv',
    header = true, auto_detect = false, dateformat = '%Y-%m-%d',
    columns = {'id_number': 'VARCHAR', 'months_paid': 'INTEGER', 'as_of': 'DATE'});

CREATE OR REPLACE TABLE living_standards AS SELECT * FROM read_csv(getvariable('dir') || '/living_standards.csv',
    header = true, auto_detect = false,
    columns = {'county_code': 'VARCHAR', 'year': 'INTEGER', 'monthly_amount': 'DECIMAL(14,2)'});

-- Reference data: every six-digit area code used since 1981 (in use or retired).
CREATE OR REPLACE TABLE area_codes AS SELECT DISTINCT code FROM read_csv(getvariable('areacodes'),
    header = true, auto_detect = false,
    columns = {'code': 'VARCHAR', 'province': 'VARCHAR', 'prefecture': 'VARCHAR', 'name': 'VARCHAR',
               'grade': 'VARCHAR', 'status': 'VARCHAR', 'since': 'VARCHAR', 'until': 'VARCHAR',
               'new_code': 'VARCHAR'});

-- ---------------------------------------------------------------------------------------
-- Judged claims: the training date (class start if the class is known, else the claim date)
-- lies in the policy's period. Per-claim rules and person/contact groups use only these.
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE TABLE judged AS
SELECT c.*,
       k.class_id IS NOT NULL AS class_known,
       k.start_date AS class_start, k.end_date AS class_end,
       k.institution_id AS class_institution, k.county_code AS class_county
FROM claims c LEFT JOIN classes k ON k.class_id = c.class_id
WHERE coalesce(k.start_date, c.claim_date) BETWEEN getvariable('policy_from') AND getvariable('policy_to');

-- One row per ID number of a judged claim: the birth date in it and whether it is valid.
CREATE OR REPLACE TABLE id_numbers AS
WITH d AS (SELECT DISTINCT id_number FROM judged WHERE id_number IS NOT NULL),
b AS (
    SELECT id_number,
           regexp_full_match(id_number, '[0-9]{17}[0-9X]') AS well_formed,
           CASE WHEN length(id_number) = 18 AND regexp_full_match(substr(id_number, 7, 8), '[0-9]{8}')
                THEN try_strptime(substr(id_number, 7, 8), '%Y%m%d')::DATE END AS birth
    FROM d
)
SELECT b.id_number, b.birth,
       b.well_formed
       AND substr('10X98765432',
                  (list_sum([ (ascii(substr(b.id_number, i::INTEGER, 1)) - 48) * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][i]
                              FOR i IN range(1, 18) ]) % 11)::INTEGER + 1,
                  1) = substr(b.id_number, 18, 1)
       AND b.birth IS NOT NULL AND year(b.birth) >= 1900
       AND a.code IS NOT NULL AS valid
FROM b LEFT JOIN area_codes a ON a.code = substr(b.id_number, 1, 6);

-- ---------------------------------------------------------------------------------------
-- The rules
-- ---------------------------------------------------------------------------------------

-- over_cap: claims ranked after claims_per_year.max within (ID number, calendar year of claim_date).
CREATE OR REPLACE TABLE r_over_cap AS
SELECT claim_id FROM (
    SELECT claim_id, row_number() OVER (PARTITION BY id_number, year(claim_date) ORDER BY claim_date, claim_id) AS rank
    FROM judged WHERE id_number IS NOT NULL
) WHERE rank > getvariable('claims_per_year_max');

-- repeated_level: every claim after the first of (ID number, occupation, level), any fund.
CREATE OR REPLACE TABLE r_repeated_level AS
SELECT claim_id FROM (
    SELECT claim_id, row_number() OVER (PARTITION BY id_number, occupation_code, level ORDER BY claim_date, claim_id) AS rank
    FROM judged WHERE id_number IS NOT NULL AND occupation_code IS NOT NULL AND level IS NOT NULL
) WHERE rank > 1;

-- amount_over_standard: amount above the cap of (type, level), else of (type, no level).
CREATE OR REPLACE TABLE r_amount_over_standard AS
SELECT j.claim_id
FROM judged j
LEFT JOIN amount_caps exact ON exact.subsidy_type = j.subsidy_type AND exact.level = j.level
LEFT JOIN amount_caps any_level ON any_level.subsidy_type = j.subsidy_type AND any_level.level IS NULL
WHERE j.amount > coalesce(exact.cap, any_level.cap);

-- living_allowance_excess: over the day limit, over the county's daily line, or not eligible.
CREATE OR REPLACE TABLE r_living_allowance_excess AS
SELECT j.claim_id
FROM judged j
LEFT JOIN living_standards ls ON ls.county_code = j.county_code AND ls.year = year(j.claim_date)
WHERE (coalesce(j.living_days, 0) > 0 OR coalesce(j.living_amount, 0) > 0)
  AND (coalesce(j.living_days, 0) > getvariable('living_max_days')
       OR (ls.monthly_amount IS NOT NULL
           AND coalesce(j.living_amount, 0) * getvariable('living_days_per_month') > coalesce(j.living_days, 0) * ls.monthly_amount)
       OR j.category IS NULL
       OR NOT list_contains(getvariable('living_eligible'), j.category));

-- skill_upgrade_ineligible: fewer UI months (largest months_paid as of the claim date) than required.
CREATE OR REPLACE TABLE r_skill_upgrade_ineligible AS
SELECT j.claim_id
FROM judged j
LEFT JOIN registry_ui u ON u.id_number = j.id_number AND (u.as_of IS NULL OR u.as_of <= j.claim_date)
WHERE j.subsidy_type = 'skill_upgrade'
GROUP BY j.claim_id
HAVING coalesce(max(u.months_paid), 0) < getvariable('skill_upgrade_min_ui_months');

-- invalid_id: malformed, wrong check digit, impossible birth date or before 1900, unknown area,
-- or a birth date after the claim date.
CREATE OR REPLACE TABLE r_invalid_id AS
SELECT j.claim_id
FROM judged j LEFT JOIN id_numbers i ON i.id_number = j.id_number
WHERE i.valid IS NOT TRUE OR i.birth > j.claim_date;

-- deceased: claim dated after the (earliest) death date.
CREATE OR REPLACE TABLE r_deceased AS
SELECT j.claim_id
FROM judged j JOIN (SELECT id_number, min(death_date) AS death_date FROM registry_death GROUP BY id_number) d
  ON d.id_number = j.id_number
WHERE j.claim_date > d.death_date;

-- pensioner: claim dated on or after the (earliest) pension start.
CREATE OR REPLACE TABLE r_pensioner AS
SELECT j.claim_id
FROM judged j JOIN (SELECT id_number, min(start_date) AS start_date FROM registry_pension GROUP BY id_number) p
  ON p.id_number = j.id_number
WHERE j.claim_date >= p.start_date;

-- age_out_of_range: whole years of age on the claim date outside [age.min, age.max].
CREATE OR REPLACE TABLE r_age_out_of_range AS
SELECT claim_id FROM (
    SELECT j.claim_id,
           year(j.claim_date) - year(i.birth)
             - CASE WHEN month(j.claim_date) * 100 + day(j.claim_date) < month(i.birth) * 100 + day(i.birth) THEN 1 ELSE 0 END AS age
    FROM judged j JOIN id_numbers i ON i.id_number = j.id_number
    WHERE i.birth IS NOT NULL
) WHERE age < getvariable('age_min') OR age > getvariable('age_max');

-- overlapping_training: two claims of one ID number whose classes' date ranges overlap
-- (inclusive) and differ in institution or county.
CREATE OR REPLACE TABLE r_overlapping_training AS
WITH s AS (
    SELECT claim_id, id_number, class_start, class_end, class_institution, class_county
    FROM judged WHERE class_known AND id_number IS NOT NULL
)
SELECT DISTINCT a.claim_id
FROM s a JOIN s b ON a.id_number = b.id_number AND a.claim_id <> b.claim_id
WHERE a.class_start <= b.class_end AND b.class_start <= a.class_end
  AND (a.class_institution IS DISTINCT FROM b.class_institution OR a.class_county IS DISTINCT FROM b.class_county);

-- cert_mismatch: certificate missing, of another person, occupation or level, or issued before
-- the class started.
CREATE OR REPLACE TABLE r_cert_mismatch AS
SELECT j.claim_id
FROM judged j LEFT JOIN certificates ce ON ce.cert_no = j.cert_no
WHERE list_contains(getvariable('cert_required_for'), j.subsidy_type)
  AND (j.cert_no IS NULL
       OR ce.cert_no IS NULL
       OR ce.id_number IS DISTINCT FROM j.id_number
       OR (j.occupation_code IS NOT NULL AND ce.occupation_code IS DISTINCT FROM j.occupation_code)
       OR (j.level IS NOT NULL AND ce.level IS DISTINCT FROM j.level)
       OR (j.class_known AND ce.issue_date < j.class_start));

-- staff_trainee: the trainee is staff or the legal representative of the claim's institution.
CREATE OR REPLACE TABLE r_staff_trainee AS
SELECT j.claim_id FROM judged j
WHERE j.institution_id IS NOT NULL AND j.id_number IS NOT NULL
  AND (EXISTS (SELECT 1 FROM staff s WHERE s.institution_id = j.institution_id AND s.id_number = j.id_number)
       OR EXISTS (SELECT 1 FROM institutions n WHERE n.institution_id = j.institution_id AND n.legal_rep_id = j.id_number));

-- shared_contact: every claim on a phone of more than max_persons_per_phone ID numbers, or on
-- a bank account of more than max_persons_per_bank_account.
CREATE OR REPLACE TABLE r_shared_contact AS
WITH phones AS (
    SELECT phone FROM judged WHERE phone IS NOT NULL
    GROUP BY phone HAVING count(DISTINCT id_number) > getvariable('max_persons_per_phone')
), banks AS (
    SELECT bank_account FROM judged WHERE bank_account IS NOT NULL
    GROUP BY bank_account HAVING count(DISTINCT id_number) > getvariable('max_persons_per_bank_account')
)
SELECT j.claim_id FROM judged j JOIN phones USING (phone)
UNION
SELECT j.claim_id FROM judged j JOIN banks USING (bank_account);

-- Projects are judged by the policy in force at their class's start, else at check_date, else
-- at the earliest training date of their claims; all claims of the class are flagged.
CREATE OR REPLACE TABLE judged_projects AS
WITH first_training AS (
    SELECT c.class_id, min(c.claim_date) AS first_claim FROM claims c
    WHERE c.class_id IN (SELECT class_id FROM projects) GROUP BY c.class_id
)
SELECT p.*
FROM projects p
LEFT JOIN classes k ON k.class_id = p.class_id
LEFT JOIN first_training f ON f.class_id = p.class_id
WHERE coalesce(k.start_date, p.check_date, f.first_claim) BETWEEN getvariable('policy_from') AND getvariable('policy_to');

-- prepay_excess: prepayment above prepay_max_percent of the project total.
CREATE OR REPLACE TABLE r_prepay_excess AS
SELECT c.claim_id
FROM judged_projects p JOIN claims c ON c.class_id = p.class_id
WHERE p.prepaid_amount * 100 > p.total_amount * getvariable('prepay_max_percent');

-- employment_rate: paid beyond the prepayment share while fewer than the required share of the
-- class's trainees (distinct ID numbers) have an employment spell covering check_date.
CREATE OR REPLACE TABLE r_employment_rate AS
WITH paid AS (
    SELECT class_id, check_date FROM judged_projects
    WHERE paid_amount * 100 > total_amount * getvariable('prepay_max_percent')
), trainees AS (
    SELECT DISTINCT p.class_id, p.check_date, c.id_number
    FROM paid p JOIN claims c ON c.class_id = p.class_id
), rate AS (
    SELECT t.class_id,
           count(*) AS trainees,
           count(*) FILTER (WHERE t.check_date IS NOT NULL AND EXISTS (
               SELECT 1 FROM employment e
               WHERE e.id_number = t.id_number AND e.start_date <= t.check_date
                 AND (e.end_date IS NULL OR t.check_date <= e.end_date))) AS employed
    FROM trainees t GROUP BY t.class_id
)
SELECT c.claim_id
FROM rate r JOIN claims c ON c.class_id = r.class_id
WHERE r.employed * 100 < r.trainees * getvariable('min_employment_rate_percent');

-- ---------------------------------------------------------------------------------------
-- Count of distinct flagged claims per rule
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE TABLE rule_counts AS
          SELECT 'over_cap' AS rule, count(DISTINCT claim_id) AS claims FROM r_over_cap
UNION ALL SELECT 'repeated_level', count(DISTINCT claim_id) FROM r_repeated_level
UNION ALL SELECT 'amount_over_standard', count(DISTINCT claim_id) FROM r_amount_over_standard
UNION ALL SELECT 'living_allowance_excess', count(DISTINCT claim_id) FROM r_living_allowance_excess
UNION ALL SELECT 'skill_upgrade_ineligible', count(DISTINCT claim_id) FROM r_skill_upgrade_ineligible
UNION ALL SELECT 'invalid_id', count(DISTINCT claim_id) FROM r_invalid_id
UNION ALL SELECT 'deceased', count(DISTINCT claim_id) FROM r_deceased
UNION ALL SELECT 'pensioner', count(DISTINCT claim_id) FROM r_pensioner
UNION ALL SELECT 'age_out_of_range', count(DISTINCT claim_id) FROM r_age_out_of_range
UNION ALL SELECT 'overlapping_training', count(DISTINCT claim_id) FROM r_overlapping_training
UNION ALL SELECT 'cert_mismatch', count(DISTINCT claim_id) FROM r_cert_mismatch
UNION ALL SELECT 'staff_trainee', count(DISTINCT claim_id) FROM r_staff_trainee
UNION ALL SELECT 'shared_contact', count(DISTINCT claim_id) FROM r_shared_contact
UNION ALL SELECT 'prepay_excess', count(DISTINCT claim_id) FROM r_prepay_excess
UNION ALL SELECT 'employment_rate', count(DISTINCT claim_id) FROM r_employment_rate;

SELECT rule, claims FROM rule_counts;
