//! Global state of a generation run: policy numbers, counties, institutions and their staff,
//! employers, the living-standard table, and counters that make identifiers unique. Writing
//! it out is `write.rs`'s.

use super::options::{GenerateError, GenerateOptions};
use super::pools::{self, Weighted};
use crate::dates::Date;
use crate::idcode::{id_check_char, make_credit_code};
use crate::model::{Category, Fen, InstitutionRow, StaffRow, SubsidyType};
use crate::policy::{Policy, PolicySet};
use crate::refdata::RefData;
use hashbrown::{HashMap, HashSet};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A legal representative of an institution: a person who may turn up as a trainee.
#[derive(Clone, Debug)]
pub struct RepPerson {
    pub id: String,
    pub name: String,
    pub birth: Date,
    pub phone: String,
    pub bank: String,
}

pub struct World {
    pub policy: Policy,
    pub refdata: &'static RefData,
    /// Claim dates lie within the policy's effective range.
    pub range_start: Date,
    pub range_end: Date,
    /// (code, name) of the Linyi counties.
    pub counties: Vec<(String, String)>,
    pub county_index: HashMap<String, usize>,
    /// Training institutions (index = institution number).
    pub institutions: Vec<InstitutionRow>,
    pub reps: Vec<RepPerson>,
    pub rep_used: Vec<bool>,
    /// Every organisation row of `institutions.csv` by id: (legal rep, phone).
    pub orgs: HashMap<String, (String, String)>,
    /// Enterprise rows created while generating the current block.
    pub new_orgs: Vec<InstitutionRow>,
    /// Staff: ID number → institutions employing them.
    staff_of: HashMap<String, Vec<String>>,
    /// Staff of the institutions made with the world, until `write::write_global` writes them.
    pub initial_staff: Vec<StaffRow>,
    /// Employers of employment spells (not training institutions).
    pub employers: Vec<String>,
    /// Monthly living line in fen, [county][year - living_first_year].
    pub living: Vec<Vec<Fen>>,
    pub living_first_year: i32,
    id_set: HashSet<u64>,
    pub occupations: Vec<&'static str>,
    occupation_weights: Weighted,
    pub rare_occupations: Vec<String>,
    surname_weights: Weighted,
    /// Given-name character → pool characters with the same toneless reading.
    pub homophones: HashMap<char, Vec<char>>,
    pub traditional: HashMap<char, char>,
    phone_no: u64,
    bank_no: u64,
    pub class_no: u64,
    pub cert_no: u64,
    org_no: u64,
    landline_no: u64,
    pub claim_no: u64,
    pub ring_no: u64,
    /// Policy look-ups made once: cap in fen by [subsidy type][level 0 = none, 1..=5].
    caps: Vec<[Option<Fen>; 6]>,
    cert_types: Vec<bool>,
    living_categories: Vec<bool>,
    pub persons_made: u64,
}

impl World {
    pub fn new(opts: &GenerateOptions, rng: &mut ChaCha8Rng) -> Result<World, GenerateError> {
        let set = PolicySet::embedded_default();
        let policy = set
            .policies
            .into_iter()
            .next()
            .ok_or_else(|| GenerateError::Policy("no embedded policy".into()))?;
        let range_start = policy.effective_from();
        let range_end = policy
            .effective_to()
            .ok_or_else(|| GenerateError::Policy("the policy has no effective_to".into()))?;
        if range_end.0 - range_start.0 < 365 {
            return Err(GenerateError::Policy(
                "the effective range is shorter than a year".into(),
            ));
        }
        let refdata = RefData::embedded();
        let counties: Vec<(String, String)> = refdata
            .linyi_counties()
            .into_iter()
            .map(|(c, n)| (c.to_string(), n.to_string()))
            .collect();
        let county_index = counties
            .iter()
            .enumerate()
            .map(|(i, (c, _))| (c.clone(), i))
            .collect();
        let occupations: Vec<&'static str> = pools::COMMON_OCCUPATIONS
            .iter()
            .filter(|(c, _)| refdata.occupation_name(c).is_some())
            .map(|(c, _)| *c)
            .collect();
        let occupation_weights = Weighted::new(
            pools::COMMON_OCCUPATIONS
                .iter()
                .filter(|(c, _)| refdata.occupation_name(c).is_some())
                .map(|(_, w)| *w),
        );
        // Detailed occupations of the service and production groups (4-, 5-, 6-) for the tail.
        let rare_occupations: Vec<String> = refdata
            .occupations()
            .iter()
            .filter(|(c, _)| {
                (c.starts_with("4-") || c.starts_with("5-") || c.starts_with("6-"))
                    && !c.ends_with("-00")
                    && c.len() == 10
            })
            .map(|(c, _)| c.clone())
            .collect();
        let surname_weights = Weighted::new(pools::SURNAMES.iter().map(|(_, w)| *w));

        let mut homophones: HashMap<char, Vec<char>> = HashMap::new();
        let mut all_given: Vec<char> = pools::GIVEN_MALE
            .iter()
            .chain(pools::GIVEN_FEMALE)
            .copied()
            .collect();
        all_given.sort_unstable();
        all_given.dedup();
        let readings: Vec<(char, String)> = all_given
            .iter()
            .map(|&c| {
                let p = crate::names::pinyin_of(&format!("王{c}"));
                (c, p.get(1).cloned().unwrap_or_default())
            })
            .collect();
        for (c, r) in &readings {
            let alike: Vec<char> = readings
                .iter()
                .filter(|(d, s)| d != c && s == r && !r.is_empty())
                .map(|(d, _)| *d)
                .collect();
            if !alike.is_empty() {
                homophones.insert(*c, alike);
            }
        }
        let traditional = pools::TRADITIONAL.iter().copied().collect();

        let mut world = World {
            policy,
            refdata,
            range_start,
            range_end,
            counties,
            county_index,
            institutions: Vec::new(),
            reps: Vec::new(),
            rep_used: Vec::new(),
            orgs: HashMap::new(),
            new_orgs: Vec::new(),
            staff_of: HashMap::new(),
            initial_staff: Vec::new(),
            employers: Vec::new(),
            living: Vec::new(),
            living_first_year: range_start.year(),
            id_set: HashSet::with_capacity((opts.claims as usize / 2).min(8_000_000)),
            occupations,
            occupation_weights,
            rare_occupations,
            surname_weights,
            homophones,
            traditional,
            phone_no: 0,
            bank_no: 0,
            class_no: 0,
            cert_no: 0,
            org_no: 0,
            landline_no: 0,
            claim_no: 0,
            ring_no: 0,
            persons_made: 0,
            caps: Vec::new(),
            cert_types: Vec::new(),
            living_categories: Vec::new(),
        };
        for &t in SubsidyType::ALL {
            let mut row = [None; 6];
            for (l, slot) in row.iter_mut().enumerate() {
                let level = if l == 0 { None } else { Some(l as u8) };
                *slot = world
                    .rules()
                    .amount_over_standard
                    .amount_cap(t, level)
                    .map(|(c, _)| c);
            }
            world.caps.push(row);
            world
                .cert_types
                .push(world.rules().cert_mismatch.required(t));
        }
        for &c in Category::ALL {
            world
                .living_categories
                .push(world.rules().living_allowance_excess.eligible(c));
        }
        world.make_living(rng);
        let n_inst = (opts.claims / 2_000).clamp(36, 3_000) as usize;
        world.make_institutions(n_inst, rng);
        for _ in 0..5_000 {
            let county = rng.gen_range(0..world.counties.len());
            let code = world.org_code("91", county);
            world.employers.push(code);
        }
        Ok(world)
    }

    fn make_living(&mut self, rng: &mut ChaCha8Rng) {
        let years = (self.range_end.year() - self.range_start.year() + 1) as usize;
        for (code, _) in self.counties.clone() {
            // Districts (市辖区, codes 3713 0x/1x) have the urban line, counties the rural one.
            let urban = code.as_bytes()[4] < b'2';
            let base: i64 = if urban { 630 } else { 450 } + 3 * rng.gen_range(0..10);
            // Yuan multiples of 3: the daily line (monthly / 30) is a whole number of fen.
            let row = (0..years).map(|y| (base + 30 * y as i64) * 100).collect();
            self.living.push(row);
        }
    }

    /// A unified social credit code: registration kind (2 chars), county, serial, check.
    pub fn org_code(&mut self, kind2: &str, county: usize) -> String {
        self.org_no += 1;
        const ALPHA: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
        let mut serial = pools::scramble(self.org_no, 1_000_000_000);
        let mut body = [b'0'; 9];
        for b in body.iter_mut().rev() {
            *b = ALPHA[(serial % 31) as usize];
            serial /= 31;
        }
        let first17 = format!(
            "{kind2}{}{}",
            self.counties[county].0,
            std::str::from_utf8(&body).unwrap_or("000000000")
        );
        make_credit_code(&first17).unwrap_or(first17)
    }

    fn landline(&mut self) -> String {
        self.landline_no += 1;
        format!(
            "0539-{}",
            2_000_000 + pools::scramble(self.landline_no, 1_000_000) * 7 % 7_000_000
        )
    }

    fn make_institutions(&mut self, n: usize, rng: &mut ChaCha8Rng) {
        const KINDS: &[(&str, &str, &str)] = &[
            ("52", "民办职业培训学校", "职业培训学校"),
            ("52", "民办职业培训学校", "职业技能培训学校"),
            ("12", "技工学校", "技工学校"),
            ("12", "公共实训基地", "公共实训基地"),
            ("91", "企业", "职业培训中心"),
        ];
        const WORDS: &[&str] = &[
            "鲁南",
            "沂蒙",
            "华信",
            "金桥",
            "启航",
            "众诚",
            "远航",
            "东方",
            "新世纪",
            "蓝天",
            "阳光",
            "博远",
            "兴业",
            "海川",
            "泰和",
            "恒达",
            "明德",
            "智远",
            "汇通",
            "卓越",
        ];
        const ROLES: &[&str] = &["校长", "教师", "教师", "班主任", "财务", "招生专员"];
        for i in 0..n {
            let county = i % self.counties.len();
            let (kind2, kind, suffix) = KINDS[rng.gen_range(0..KINDS.len())];
            let id = self.org_code(kind2, county);
            let word = WORDS[rng.gen_range(0..WORDS.len())];
            let county_name = self.counties[county].1.clone();
            let name = format!(
                "{county_name}{word}{suffix}{}",
                if i >= 100 {
                    format!("（{}）", i / 100)
                } else {
                    String::new()
                }
            );
            let birth = self.random_birth(rng, 1962, 1990);
            let rep_male = rng.gen_bool(0.7);
            let rep_name = self.make_name(rng, rep_male);
            let home = self.counties[county].0.clone();
            let rep_id = self.make_id(rng, &home, birth, rep_male);
            let phone = self.landline();
            let rep = RepPerson {
                id: rep_id.clone(),
                name: rep_name,
                birth,
                phone: self.new_phone(),
                bank: self.new_bank(rng),
            };
            let row = InstitutionRow {
                institution_id: id.clone(),
                name,
                county_code: self.counties[county].0.clone(),
                kind: kind.to_string(),
                legal_rep_id: rep_id.clone(),
                phone: phone.clone(),
                address: format!("{county_name}{word}路{}号", rng.gen_range(1..400)),
            };
            self.orgs.insert(id.clone(), (rep_id, phone));
            self.institutions.push(row);
            self.reps.push(rep);
            self.rep_used.push(false);
            for _ in 0..rng.gen_range(3..=7) {
                let b = self.random_birth(rng, 1965, 1998);
                let male = rng.gen_bool(0.5);
                let area = self.pick_area(rng, b);
                let sid = self.make_id(rng, &area, b, male);
                let role = ROLES[rng.gen_range(0..ROLES.len())];
                self.add_staff(&id, &sid);
                self.initial_staff.push(StaffRow {
                    institution_id: id.clone(),
                    id_number: sid,
                    role: role.to_string(),
                });
            }
        }
    }

    /// An enterprise that shares the legal representative of institution `inst` (an employer
    /// linked to the institution), added as an `institutions` row of kind 企业.
    pub fn linked_enterprise(&mut self, inst: usize, rng: &mut ChaCha8Rng) -> String {
        let county = self.county_index[&self.institutions[inst].county_code];
        let id = self.org_code("91", county);
        let rep = self.institutions[inst].legal_rep_id.clone();
        let phone = self.landline();
        const WORDS: &[&str] = &["商贸", "物业", "劳务", "家政服务", "餐饮管理", "建筑工程"];
        let word = WORDS[rng.gen_range(0..WORDS.len())];
        let county_name = self.counties[county].1.clone();
        let row = InstitutionRow {
            institution_id: id.clone(),
            name: format!("临沂市{county_name}{word}有限公司{}", self.org_no % 1000),
            county_code: self.counties[county].0.clone(),
            kind: "企业".to_string(),
            legal_rep_id: rep.clone(),
            phone: phone.clone(),
            address: format!("{county_name}工业园{}号", rng.gen_range(1..200)),
        };
        self.orgs.insert(id.clone(), (rep, phone));
        self.new_orgs.push(row);
        id
    }

    /// `Policy::amount_cap` in fen, looked up in the prepared table.
    pub fn cap(&self, t: SubsidyType, level: Option<u8>) -> Option<Fen> {
        let ti = SubsidyType::ALL.iter().position(|x| *x == t)?;
        let li = level
            .map(|l| l as usize)
            .filter(|l| (1..=5).contains(l))
            .unwrap_or(0);
        if level.is_some() && li == 0 {
            // A level outside 1..=5 matches only a cap given without a level.
            return self
                .rules()
                .amount_over_standard
                .amount_cap(t, level)
                .map(|(c, _)| c);
        }
        self.caps[ti][li]
    }

    /// The rules' own numbers of the policy (`rules::params`): the sections each rule owns.
    pub fn rules(&self) -> &crate::rules::PolicyParams {
        crate::rules::params(&self.policy)
    }

    pub fn cert_required(&self, t: SubsidyType) -> bool {
        SubsidyType::ALL
            .iter()
            .position(|x| *x == t)
            .is_some_and(|i| self.cert_types[i])
    }

    pub fn living_eligible(&self, c: Category) -> bool {
        Category::ALL
            .iter()
            .position(|x| *x == c)
            .is_some_and(|i| self.living_categories[i])
    }

    pub fn add_staff(&mut self, inst: &str, id: &str) {
        let v = self.staff_of.entry(id.to_string()).or_default();
        if !v.iter().any(|i| i == inst) {
            v.push(inst.to_string());
        }
    }

    /// Whether `id` is staff of institution `inst` (blocks written so far).
    pub fn is_staff(&self, inst: &str, id: &str) -> bool {
        self.staff_of
            .get(id)
            .is_some_and(|v| v.iter().any(|i| i == inst))
    }

    /// A birth date between Jan 1 of `y0` and Dec 31 of `y1`.
    pub fn random_birth(&self, rng: &mut ChaCha8Rng, y0: i32, y1: i32) -> Date {
        let a = Date::from_ymd(y0, 1, 1).map(|d| d.0).unwrap_or(0);
        let b = Date::from_ymd(y1, 12, 31).map(|d| d.0).unwrap_or(a);
        Date(rng.gen_range(a..=b.max(a)))
    }

    /// Birth place of an ID number: Linyi counties mostly; codes of the former 临沂地区 for
    /// some born before 1994; elsewhere for a few.
    pub fn pick_area(&self, rng: &mut ChaCha8Rng, birth: Date) -> String {
        let x: u32 = rng.gen_range(0..100);
        if birth.year() < 1994 && x < 15 {
            return pools::OLD_LINYI_AREAS[rng.gen_range(0..pools::OLD_LINYI_AREAS.len())]
                .to_string();
        }
        if x >= 90 {
            return pools::OTHER_AREAS[rng.gen_range(0..pools::OTHER_AREAS.len())].to_string();
        }
        self.counties[rng.gen_range(0..self.counties.len())]
            .0
            .clone()
    }

    /// A valid 18-digit ID number never issued before in this run.
    pub fn make_id(&mut self, rng: &mut ChaCha8Rng, area: &str, birth: Date, male: bool) -> String {
        let (y, m, d) = birth.ymd();
        loop {
            let mut seq: u32 = rng.gen_range(0..500) * 2;
            if male {
                seq += 1;
            }
            let first17 = format!("{area}{y:04}{m:02}{d:02}{seq:03}");
            let key: u64 = first17.parse().unwrap_or(0);
            if self.id_set.insert(key) {
                let c = id_check_char(&first17).unwrap_or('0');
                self.persons_made += 1;
                return format!("{first17}{c}");
            }
        }
    }

    /// Records an ID number made elsewhere (so that no later person gets it).
    pub fn reserve_id(&mut self, id: &str) -> bool {
        match id.get(..17).and_then(|s| s.parse::<u64>().ok()) {
            Some(k) => self.id_set.insert(k),
            None => true,
        }
    }

    pub fn make_name(&self, rng: &mut ChaCha8Rng, male: bool) -> String {
        let surname = pools::SURNAMES[self.surname_weights.pick(rng)].0;
        let pool = if male {
            pools::GIVEN_MALE
        } else {
            pools::GIVEN_FEMALE
        };
        let mut s = surname.to_string();
        s.push(pool[rng.gen_range(0..pool.len())]);
        if rng.gen_bool(0.7) {
            s.push(pool[rng.gen_range(0..pool.len())]);
        }
        s
    }

    /// A mobile number no one else has.
    pub fn new_phone(&mut self) -> String {
        self.phone_no += 1;
        let n = self.phone_no;
        let prefix = pools::PHONE_PREFIXES
            [(pools::scramble(n, 1_000_000) % pools::PHONE_PREFIXES.len() as u64) as usize];
        format!("{prefix}{:08}", pools::scramble(n, 100_000_000))
    }

    /// A 19-digit bank card number no one else has.
    pub fn new_bank(&mut self, rng: &mut ChaCha8Rng) -> String {
        self.bank_no += 1;
        let bin = pools::BANK_BINS[rng.gen_range(0..pools::BANK_BINS.len())];
        let body = format!(
            "{bin}{:012}",
            pools::scramble(self.bank_no, 1_000_000_000_000)
        );
        let check = pools::luhn_digit(&body);
        format!("{body}{check}")
    }

    pub fn pick_occupation(&self, rng: &mut ChaCha8Rng) -> String {
        if rng.gen_bool(0.1) && !self.rare_occupations.is_empty() {
            return self.rare_occupations[rng.gen_range(0..self.rare_occupations.len())].clone();
        }
        self.occupations[self.occupation_weights.pick(rng)].to_string()
    }

    /// Monthly living line of a county and year, if the table has it.
    pub fn living_line(&self, county: &str, year: i32) -> Option<Fen> {
        let c = *self.county_index.get(county)?;
        let y = usize::try_from(year - self.living_first_year).ok()?;
        self.living.get(c)?.get(y).copied()
    }
}
