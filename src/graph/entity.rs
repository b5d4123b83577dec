//! The entity graph of one snapshot (petgraph): typed nodes for persons, names as written,
//! phones, bank accounts, organisations (institutions and employers), classes, certificates and
//! counties, and typed edges that carry the evidence behind them.
//!
//! Layout: every interned value of the snapshot is a node, in one dense range per kind, so a
//! node index is `base[kind] + interned id` and no hash map is needed. Interned id 0 (the empty
//! value) has a node too, but no edge ever touches it.
//!
//! Edges from claims (`claimed at`, `trained in`, `holds`, `uses`, `written as`, `located in`)
//! are deduplicated per (from, to, kind) and carry the sorted claim indices that justify them,
//! stored in one shared buffer. Edges from the other tables (legal representative, staff,
//! employment spells, the institution's phone and county, the class's institution and county,
//! certificate holders) carry the row of their table instead.
//!
//! Build order depends only on the snapshot: kinds in a fixed order, edges of a kind sorted by
//! (from, to), tables in the snapshot's sorted order. Claim-derived edges are grouped in
//! parallel (rayon sort), so building is deterministic whatever the thread count.

use crate::intern::Text;
use crate::snapshot::{DenseGroups, Snapshot};
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use rayon::prelude::*;
use serde_json::json;
use std::collections::{HashMap, VecDeque};

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    Person,
    Name,
    Phone,
    Bank,
    Org,
    Class,
    Cert,
    County,
}

impl NodeKind {
    pub const ALL: [NodeKind; 8] = [
        NodeKind::Person,
        NodeKind::Name,
        NodeKind::Phone,
        NodeKind::Bank,
        NodeKind::Org,
        NodeKind::Class,
        NodeKind::Cert,
        NodeKind::County,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NodeKind::Person => "person",
            NodeKind::Name => "name",
            NodeKind::Phone => "phone",
            NodeKind::Bank => "bank_account",
            NodeKind::Org => "org",
            NodeKind::Class => "class",
            NodeKind::Cert => "certificate",
            NodeKind::County => "county",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            NodeKind::Person => "人员",
            NodeKind::Name => "姓名",
            NodeKind::Phone => "联系电话",
            NodeKind::Bank => "银行账号",
            NodeKind::Org => "机构/单位",
            NodeKind::Class => "培训班",
            NodeKind::Cert => "证书",
            NodeKind::County => "县区",
        }
    }

    pub fn parse(s: &str) -> Option<NodeKind> {
        let s = s.trim();
        NodeKind::ALL.iter().copied().find(|k| {
            k.code() == s
                || k.zh() == s
                || matches!(
                    (k, s),
                    (NodeKind::Person, "id" | "id_number" | "身份证号")
                        | (NodeKind::Bank, "bank")
                        | (
                            NodeKind::Org,
                            "institution" | "employer" | "机构" | "用工单位"
                        )
                        | (NodeKind::Cert, "cert")
                )
        })
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A node: its kind and its interned id in the snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeData {
    pub kind: NodeKind,
    pub id: u32,
}

/// What an edge says. Directions read as a sentence: person *uses* phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// person → org: claims at the institution.
    ClaimedAt,
    /// person → class
    TrainedIn,
    /// person → certificate cited by their claims
    Holds,
    /// person → phone of their claims
    UsesPhone,
    /// person → bank account of their claims
    UsesBank,
    /// person → name written on their claims
    WrittenAs,
    /// org → county of the claims made at it
    ClaimedInCounty,
    /// class → county of its claims
    ClassClaimedInCounty,
    /// person → org (`institutions.legal_rep_id`)
    Represents,
    /// person → org (`staff`)
    StaffOf,
    /// org → person (`employment` spell)
    Employs,
    /// org → phone (`institutions.phone`)
    OrgPhone,
    /// org → county (`institutions.county_code`)
    OrgLocatedIn,
    /// class → org (`classes.institution_id`)
    HeldBy,
    /// class → county (`classes.county_code`)
    ClassLocatedIn,
    /// certificate → person (`certificates`)
    IssuedTo,
}

impl EdgeKind {
    pub fn code(self) -> &'static str {
        match self {
            EdgeKind::ClaimedAt => "claimed_at",
            EdgeKind::TrainedIn => "trained_in",
            EdgeKind::Holds => "holds",
            EdgeKind::UsesPhone | EdgeKind::UsesBank | EdgeKind::OrgPhone => "uses",
            EdgeKind::WrittenAs => "written_as",
            EdgeKind::ClaimedInCounty
            | EdgeKind::ClassClaimedInCounty
            | EdgeKind::OrgLocatedIn
            | EdgeKind::ClassLocatedIn => "located_in",
            EdgeKind::Represents => "represents",
            EdgeKind::StaffOf => "staff_of",
            EdgeKind::Employs => "employs",
            EdgeKind::HeldBy => "held_by",
            EdgeKind::IssuedTo => "issued_to",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            EdgeKind::ClaimedAt => "申领于",
            EdgeKind::TrainedIn => "参训于",
            EdgeKind::Holds => "持有",
            EdgeKind::UsesPhone | EdgeKind::UsesBank | EdgeKind::OrgPhone => "使用",
            EdgeKind::WrittenAs => "登记姓名",
            EdgeKind::ClaimedInCounty
            | EdgeKind::ClassClaimedInCounty
            | EdgeKind::OrgLocatedIn
            | EdgeKind::ClassLocatedIn => "位于",
            EdgeKind::Represents => "法定代表人",
            EdgeKind::StaffOf => "工作人员",
            EdgeKind::Employs => "雇用",
            EdgeKind::HeldBy => "开班机构",
            EdgeKind::IssuedTo => "颁发给",
        }
    }

    /// The table an edge is read from; claim-derived edges carry claims, the others a row.
    pub fn source_table(self) -> &'static str {
        match self {
            EdgeKind::ClaimedAt
            | EdgeKind::TrainedIn
            | EdgeKind::Holds
            | EdgeKind::UsesPhone
            | EdgeKind::UsesBank
            | EdgeKind::WrittenAs
            | EdgeKind::ClaimedInCounty
            | EdgeKind::ClassClaimedInCounty => "claims",
            EdgeKind::Represents | EdgeKind::OrgPhone | EdgeKind::OrgLocatedIn => "institutions",
            EdgeKind::StaffOf => "staff",
            EdgeKind::Employs => "employment",
            EdgeKind::HeldBy | EdgeKind::ClassLocatedIn => "classes",
            EdgeKind::IssuedTo => "certificates",
        }
    }

    pub fn from_claims(self) -> bool {
        self.source_table() == "claims"
    }
}

/// An edge: its kind and its evidence. Claim-derived edges: `claim_refs[start..start + len]`;
/// table edges: `start` is the row in the snapshot's table (`len` = 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeData {
    pub kind: EdgeKind,
    pub start: u32,
    pub len: u32,
}

/// The entity graph over a snapshot.
pub struct EntityGraph<'s> {
    pub snap: &'s Snapshot,
    pub graph: DiGraph<NodeData, EdgeData>,
    claim_refs: Vec<u32>,
    base: [u32; 9],
}

/// The claim-derived edge kinds and how each reads a claim: (kind, from, to).
type ClaimEdge = (
    EdgeKind,
    NodeKind,
    NodeKind,
    fn(&crate::snapshot::Claim) -> (u32, u32),
);

const CLAIM_EDGES: &[ClaimEdge] = &[
    (EdgeKind::ClaimedAt, NodeKind::Person, NodeKind::Org, |c| {
        (c.person, c.institution)
    }),
    (
        EdgeKind::TrainedIn,
        NodeKind::Person,
        NodeKind::Class,
        |c| (c.person, c.class),
    ),
    (EdgeKind::Holds, NodeKind::Person, NodeKind::Cert, |c| {
        (c.person, c.cert)
    }),
    (
        EdgeKind::UsesPhone,
        NodeKind::Person,
        NodeKind::Phone,
        |c| (c.person, c.phone),
    ),
    (EdgeKind::UsesBank, NodeKind::Person, NodeKind::Bank, |c| {
        (c.person, c.bank)
    }),
    (EdgeKind::WrittenAs, NodeKind::Person, NodeKind::Name, |c| {
        (c.person, c.name)
    }),
    (
        EdgeKind::ClaimedInCounty,
        NodeKind::Org,
        NodeKind::County,
        |c| (c.institution, c.county),
    ),
    (
        EdgeKind::ClassClaimedInCounty,
        NodeKind::Class,
        NodeKind::County,
        |c| (c.class, c.county),
    ),
];

/// Entities per node kind, in `NodeKind::ALL` order (the interner of each kind; id 0, the
/// empty value, included): what [`build`] makes nodes of and [`counts`] counts.
fn node_kind_sizes(snap: &Snapshot) -> [usize; 8] {
    [
        snap.ids.len(),
        snap.names.len(),
        snap.phones.len(),
        snap.banks.len(),
        snap.orgs.len(),
        snap.class_keys.len(),
        snap.cert_keys.len(),
        snap.counties.len(),
    ]
}

/// An edge before it enters the graph: (from node, to node, data).
type PendingEdge = (u32, u32, EdgeData);

/// Builds the entity graph of a snapshot.
pub fn build(snap: &Snapshot) -> EntityGraph<'_> {
    let sizes = node_kind_sizes(snap);
    let mut base = [0u32; 9];
    for k in 0..8 {
        base[k + 1] = base[k] + sizes[k].max(1) as u32;
    }
    let n_nodes = base[8] as usize;

    // Each kind's edges are kept in their own list and moved into the graph list by list, so
    // that the lists and the graph's edge storage are not both whole at the peak.
    let mut claim_refs: Vec<u32> = Vec::with_capacity(snap.claims.len() * CLAIM_EDGES.len());
    let mut lists: Vec<Vec<PendingEdge>> = CLAIM_EDGES
        .iter()
        .map(|&claim_edge| claim_edges(snap, &base, claim_edge, &mut claim_refs))
        .collect();
    lists.push(table_edges(snap, &base));
    let n_edges = lists.iter().map(Vec::len).sum();
    let mut graph = DiGraph::with_capacity(n_nodes, n_edges);
    for (k, kind) in NodeKind::ALL.iter().enumerate() {
        for id in 0..(base[k + 1] - base[k]) {
            graph.add_node(NodeData { kind: *kind, id });
        }
    }
    for list in lists {
        for (a, b, e) in list {
            graph.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), e);
        }
    }
    claim_refs.shrink_to_fit();
    EntityGraph {
        snap,
        graph,
        claim_refs,
        base,
    }
}

/// The deduplicated edges of one claim-derived kind, their claims appended to `claim_refs`.
/// Claims are grouped one kind at a time (bounded scratch memory), in parallel: (from, to)
/// packed into one u64 key, sorted with the claim index.
fn claim_edges(
    snap: &Snapshot,
    base: &[u32; 9],
    (kind, from_kind, to_kind, ends): ClaimEdge,
    claim_refs: &mut Vec<u32>,
) -> Vec<PendingEdge> {
    let mut edges: Vec<PendingEdge> = Vec::new();
    let (fb, tb) = (base[from_kind.index()], base[to_kind.index()]);
    let mut pairs: Vec<(u64, u32)> = snap
        .claims
        .par_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let (a, b) = ends(c);
            (a != 0 && b != 0).then(|| ((((fb + a) as u64) << 32) | (tb + b) as u64, i as u32))
        })
        .collect();
    pairs.par_sort_unstable();
    let mut i = 0;
    while i < pairs.len() {
        let key = pairs[i].0;
        let start = claim_refs.len() as u32;
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == key {
            claim_refs.push(pairs[j].1);
            j += 1;
        }
        edges.push((
            (key >> 32) as u32,
            key as u32,
            EdgeData {
                kind,
                start,
                len: (j - i) as u32,
            },
        ));
        i = j;
    }
    drop(pairs);
    edges.shrink_to_fit();
    edges
}

/// The edges read from the other tables (institutions, staff, employment, classes,
/// certificates), each carrying its row.
fn table_edges(snap: &Snapshot, base: &[u32; 9]) -> Vec<PendingEdge> {
    let mut edges: Vec<PendingEdge> = Vec::new();
    let node = |k: NodeKind, id: u32| base[k.index()] + id;
    let table = |kind, start: usize| EdgeData {
        kind,
        start: start as u32,
        len: 0,
    };
    for (row, inst) in snap.institutions.iter().enumerate() {
        if inst.org == 0 {
            continue;
        }
        let o = node(NodeKind::Org, inst.org);
        if inst.legal_rep != 0 {
            edges.push((
                node(NodeKind::Person, inst.legal_rep),
                o,
                table(EdgeKind::Represents, row),
            ));
        }
        if inst.phone != 0 {
            edges.push((
                o,
                node(NodeKind::Phone, inst.phone),
                table(EdgeKind::OrgPhone, row),
            ));
        }
        if inst.county != 0 {
            edges.push((
                o,
                node(NodeKind::County, inst.county),
                table(EdgeKind::OrgLocatedIn, row),
            ));
        }
    }
    for (row, s) in snap.staff.iter().enumerate() {
        if s.person != 0 && s.institution != 0 {
            edges.push((
                node(NodeKind::Person, s.person),
                node(NodeKind::Org, s.institution),
                table(EdgeKind::StaffOf, row),
            ));
        }
    }
    for (row, sp) in snap.employment.iter().enumerate() {
        if sp.person != 0 && sp.employer != 0 {
            edges.push((
                node(NodeKind::Org, sp.employer),
                node(NodeKind::Person, sp.person),
                table(EdgeKind::Employs, row),
            ));
        }
    }
    for (row, c) in snap.classes.iter().enumerate() {
        if c.key == 0 {
            continue;
        }
        let k = node(NodeKind::Class, c.key);
        if c.institution != 0 {
            edges.push((
                k,
                node(NodeKind::Org, c.institution),
                table(EdgeKind::HeldBy, row),
            ));
        }
        if c.county != 0 {
            edges.push((
                k,
                node(NodeKind::County, c.county),
                table(EdgeKind::ClassLocatedIn, row),
            ));
        }
    }
    for (row, c) in snap.certificates.iter().enumerate() {
        if c.key != 0 && c.person != 0 {
            edges.push((
                node(NodeKind::Cert, c.key),
                node(NodeKind::Person, c.person),
                table(EdgeKind::IssuedTo, row),
            ));
        }
    }
    edges
}

/// What the entity graph's size takes from the snapshot's tables rather than from its claims:
/// the node count of each kind and the edges of the non-claim tables. Taken before a sweep
/// frees the tables only the rules read (certificates, names, staff; see
/// `Snapshot::release_after_rules`), so the graph analysis can run without them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableCounts {
    node_sizes: [usize; 8],
    table_edges: usize,
}

impl TableCounts {
    pub fn of(snap: &Snapshot) -> TableCounts {
        let mut table_edges = 0usize;
        for inst in snap.institutions.iter().filter(|i| i.org != 0) {
            table_edges += (inst.legal_rep != 0) as usize
                + (inst.phone != 0) as usize
                + (inst.county != 0) as usize;
        }
        table_edges += snap
            .staff
            .iter()
            .filter(|s| s.person != 0 && s.institution != 0)
            .count();
        table_edges += snap
            .employment
            .iter()
            .filter(|s| s.person != 0 && s.employer != 0)
            .count();
        for c in snap.classes.iter().filter(|c| c.key != 0) {
            table_edges += (c.institution != 0) as usize + (c.county != 0) as usize;
        }
        table_edges += snap
            .certificates
            .iter()
            .filter(|c| c.key != 0 && c.person != 0)
            .count();
        TableCounts {
            node_sizes: node_kind_sizes(snap),
            table_edges,
        }
    }
}

/// The node and edge counts [`build`] would give, computed from claim groupings without
/// building the graph (the sweep reports the graph's size but needs none of its edges).
/// `by_person`, `by_org` and `by_class` group every claim by person, institution and class;
/// `tables` is [`TableCounts::of`] the same snapshot.
pub(crate) fn counts(
    snap: &Snapshot,
    tables: &TableCounts,
    by_person: &DenseGroups,
    by_org: &DenseGroups,
    by_class: &DenseGroups,
) -> (usize, usize) {
    let nodes: usize = tables.node_sizes.iter().map(|&n| n.max(1)).sum();

    // Person edges: distinct non-empty values per person of each claim-derived kind.
    let person_edges: usize = (1..by_person.keys() as u32)
        .into_par_iter()
        .with_min_len(4096)
        .map(|p| distinct_person_values(snap, by_person.members(p)))
        .sum();
    // Organisation → county and class → county: distinct counties per group (a stamp per
    // county says which group saw it last).
    let mut stamp = vec![u32::MAX; snap.counties.len().max(1)];
    let mut group_edges = 0usize;
    for groups in [by_org, by_class] {
        stamp.fill(u32::MAX);
        for k in 1..groups.keys() as u32 {
            for &c in groups.members(k) {
                let county = snap.claims[c as usize].county;
                if county != 0 && stamp[county as usize] != k {
                    stamp[county as usize] = k;
                    group_edges += 1;
                }
            }
        }
    }
    (nodes, person_edges + group_edges + tables.table_edges)
}

/// Edges from one person to the values of its claims: for each person-side claim edge kind, the
/// distinct non-empty values among `claims`.
fn distinct_person_values(snap: &Snapshot, claims: &[u32]) -> usize {
    const FIELDS: [fn(&crate::snapshot::Claim) -> u32; 6] = [
        |c| c.institution,
        |c| c.class,
        |c| c.cert,
        |c| c.phone,
        |c| c.bank,
        |c| c.name,
    ];
    let mut n = 0;
    if claims.len() <= 16 {
        // A person has few claims: quadratic scans on the stack beat sorting.
        let mut seen = [0u32; 16];
        for field in FIELDS {
            let mut k = 0;
            for &c in claims {
                let v = field(&snap.claims[c as usize]);
                if v != 0 && !seen[..k].contains(&v) {
                    seen[k] = v;
                    k += 1;
                }
            }
            n += k;
        }
    } else {
        let mut values: Vec<u32> = Vec::with_capacity(claims.len());
        for field in FIELDS {
            values.clear();
            values.extend(
                claims
                    .iter()
                    .map(|&c| field(&snap.claims[c as usize]))
                    .filter(|&v| v != 0),
            );
            values.sort_unstable();
            values.dedup();
            n += values.len();
        }
    }
    n
}

impl<'s> EntityGraph<'s> {
    /// The node of an interned value.
    pub fn node(&self, kind: NodeKind, id: u32) -> NodeIndex {
        NodeIndex::new((self.base[kind.index()] + id) as usize)
    }

    pub fn data(&self, n: NodeIndex) -> NodeData {
        self.graph[n]
    }

    /// The claims justifying an edge (empty for edges read from other tables).
    pub fn claims_of(&self, e: &EdgeData) -> &[u32] {
        if e.kind.from_claims() {
            &self.claim_refs[e.start as usize..(e.start + e.len) as usize]
        } else {
            &[]
        }
    }

    /// The table row behind an edge that was not read from claims.
    pub fn row_of(&self, e: &EdgeData) -> Option<u32> {
        (!e.kind.from_claims()).then_some(e.start)
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Total claim references carried by edges.
    pub fn claim_ref_count(&self) -> usize {
        self.claim_refs.len()
    }

    /// Edges into a node, of one kind: (other end, edge data), in insertion order.
    pub fn incoming(&self, n: NodeIndex, kind: EdgeKind) -> Vec<(NodeIndex, EdgeData)> {
        let mut v: Vec<(NodeIndex, EdgeData)> = self
            .graph
            .edges_directed(n, Direction::Incoming)
            .filter(|e| e.weight().kind == kind)
            .map(|e| (e.source(), *e.weight()))
            .collect();
        // petgraph lists a node's edges newest first.
        v.reverse();
        v
    }

    /// The value a node stands for: ID number, name, phone, account, org code, class id …
    pub fn value(&self, n: NodeIndex) -> Text<'s> {
        let d = self.graph[n];
        let s = self.snap;
        match d.kind {
            NodeKind::Person => s.ids.resolve(d.id),
            NodeKind::Name => s.names.resolve(d.id).into(),
            NodeKind::Phone => s.phones.resolve(d.id),
            NodeKind::Bank => s.banks.resolve(d.id),
            NodeKind::Org => s.orgs.resolve(d.id).into(),
            NodeKind::Class => s.class_keys.resolve(d.id).into(),
            NodeKind::Cert => s.cert_keys.resolve(d.id),
            NodeKind::County => s.counties.resolve(d.id).into(),
        }
    }

    /// `kind:value`, e.g. `person:371302199001011234`.
    pub fn key(&self, n: NodeIndex) -> String {
        format!("{}:{}", self.graph[n].kind.code(), self.value(n))
    }

    /// A label for people: the value, and an institution's name where the table gives one.
    pub fn label(&self, n: NodeIndex) -> String {
        let d = self.graph[n];
        if d.kind == NodeKind::Org {
            if let Some(inst) = self.snap.institution(d.id) {
                let name = self.snap.texts.resolve(inst.name);
                if !name.is_empty() {
                    return format!("{} {}", self.value(n), name);
                }
            }
        }
        self.value(n).to_string()
    }

    /// Finds a node from `kind:value` or a bare value (tried as ID number, phone, bank
    /// account, organisation, class, certificate, county, name, in that order).
    pub fn find(&self, text: &str) -> Option<NodeIndex> {
        let s = self.snap;
        let lookup = |kind: NodeKind, v: &str| -> Option<NodeIndex> {
            let id = match kind {
                NodeKind::Person => s.ids.get(v),
                NodeKind::Name => s.names.get(v),
                NodeKind::Phone => s.phones.get(v),
                NodeKind::Bank => s.banks.get(v),
                NodeKind::Org => s.orgs.get(v),
                NodeKind::Class => s.class_keys.get(v),
                NodeKind::Cert => s.cert_keys.get(v),
                NodeKind::County => s.counties.get(v),
            }?;
            (id != 0).then(|| self.node(kind, id))
        };
        let text = text.trim();
        if let Some((k, v)) = text.split_once(':') {
            if let Some(kind) = NodeKind::parse(k) {
                return lookup(kind, v.trim());
            }
        }
        const ORDER: [NodeKind; 8] = [
            NodeKind::Person,
            NodeKind::Phone,
            NodeKind::Bank,
            NodeKind::Org,
            NodeKind::Class,
            NodeKind::Cert,
            NodeKind::County,
            NodeKind::Name,
        ];
        ORDER.iter().find_map(|&k| lookup(k, text))
    }

    /// The neighbourhood of a node up to `depth` edges away (in either direction).
    pub fn neighbourhood(&self, center: NodeIndex, depth: u32) -> Subgraph {
        self.neighbourhood_limited(center, depth, usize::MAX)
    }

    /// As [`Self::neighbourhood`], keeping at most `max_nodes` nodes (nearest first, then in
    /// edge insertion order); `truncated` says whether any were left out.
    pub fn neighbourhood_limited(
        &self,
        center: NodeIndex,
        depth: u32,
        max_nodes: usize,
    ) -> Subgraph {
        let mut index: HashMap<NodeIndex, usize> = HashMap::new();
        let mut order: Vec<(NodeIndex, u32)> = Vec::new();
        let mut truncated = false;
        index.insert(center, 0);
        order.push((center, 0));
        let mut queue = VecDeque::from([(center, 0u32)]);
        while let Some((x, d)) = queue.pop_front() {
            if d >= depth {
                continue;
            }
            for y in self.neighbours_in_order(x) {
                if index.contains_key(&y) {
                    continue;
                }
                if order.len() >= max_nodes {
                    truncated = true;
                    break;
                }
                index.insert(y, order.len());
                order.push((y, d + 1));
                queue.push_back((y, d + 1));
            }
        }
        let nodes: Vec<SubNode> = order
            .iter()
            .map(|&(n, d)| SubNode {
                key: self.key(n),
                kind: self.graph[n].kind,
                label: self.label(n),
                depth: d,
            })
            .collect();
        let mut edges = Vec::new();
        for (from_pos, &(n, _)) in order.iter().enumerate() {
            let mut out: Vec<EdgeIndex> = self.graph.edges(n).map(|e| e.id()).collect();
            out.reverse();
            for e in out {
                let (_, target) = self.graph.edge_endpoints(e).expect("edge of the graph");
                let Some(&to_pos) = index.get(&target) else {
                    continue;
                };
                let data = self.graph[e];
                edges.push(SubEdge {
                    from: from_pos,
                    to: to_pos,
                    kind: data.kind,
                    claims: self
                        .claims_of(&data)
                        .iter()
                        .map(|&c| self.snap.claim_id(c as usize).to_string())
                        .collect(),
                    table: data.kind.source_table(),
                    row: self.row_of(&data),
                });
            }
        }
        Subgraph {
            nodes,
            edges,
            depth,
            truncated,
        }
    }

    /// Neighbours in either direction, outgoing first, each list in insertion order, skipping
    /// repeats.
    fn neighbours_in_order(&self, x: NodeIndex) -> Vec<NodeIndex> {
        let mut out: Vec<NodeIndex> = self
            .graph
            .neighbors_directed(x, Direction::Outgoing)
            .collect();
        out.reverse();
        let mut inc: Vec<NodeIndex> = self
            .graph
            .neighbors_directed(x, Direction::Incoming)
            .collect();
        inc.reverse();
        out.extend(inc);
        let mut seen = std::collections::HashSet::new();
        out.retain(|n| seen.insert(*n));
        out
    }
}

/// A node of an exported neighbourhood.
#[derive(Clone, Debug, PartialEq)]
pub struct SubNode {
    /// `kind:value`
    pub key: String,
    pub kind: NodeKind,
    pub label: String,
    /// Edges from the centre.
    pub depth: u32,
}

/// An edge of an exported neighbourhood (positions into `Subgraph::nodes`).
#[derive(Clone, Debug, PartialEq)]
pub struct SubEdge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    /// Claim ids behind a claim-derived edge.
    pub claims: Vec<String>,
    pub table: &'static str,
    /// Row of a table edge.
    pub row: Option<u32>,
}

/// A node's neighbourhood, ready for Graphviz or JSON. `nodes[0]` is the centre.
#[derive(Clone, Debug, PartialEq)]
pub struct Subgraph {
    pub nodes: Vec<SubNode>,
    pub edges: Vec<SubEdge>,
    pub depth: u32,
    pub truncated: bool,
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Subgraph {
    pub fn contains(&self, key: &str) -> bool {
        self.nodes.iter().any(|n| n.key == key)
    }

    /// Graphviz DOT: nodes labelled with their kind in Chinese and value, edges with their
    /// relation and the claim ids behind it (the first five, then a count).
    pub fn to_dot(&self) -> String {
        let mut s = String::from(
            "digraph neighbourhood {\n  graph [charset=\"UTF-8\", rankdir=LR];\n  node [fontname=\"Noto Sans CJK SC\", style=filled];\n  edge [fontname=\"Noto Sans CJK SC\", fontsize=10];\n",
        );
        for (i, n) in self.nodes.iter().enumerate() {
            let (shape, colour) = match n.kind {
                NodeKind::Person => ("box", "#fde2e2"),
                NodeKind::Name => ("note", "#f5f5f5"),
                NodeKind::Phone => ("ellipse", "#e2effd"),
                NodeKind::Bank => ("ellipse", "#e2fde9"),
                NodeKind::Org => ("house", "#fdf3e2"),
                NodeKind::Class => ("component", "#efe2fd"),
                NodeKind::Cert => ("tab", "#fdfde2"),
                NodeKind::County => ("hexagon", "#e2fdfb"),
            };
            let pen = if i == 0 { ", penwidth=3" } else { "" };
            s.push_str(&format!(
                "  n{i} [label=\"{}\\n{}\", shape={shape}, fillcolor=\"{colour}\"{pen}];\n",
                n.kind.zh(),
                dot_escape(&n.label)
            ));
        }
        for e in &self.edges {
            let evidence = if e.claims.is_empty() {
                format!("{}#{}", e.table, e.row.unwrap_or(0))
            } else {
                let shown: Vec<&str> = e.claims.iter().take(5).map(String::as_str).collect();
                let more = if e.claims.len() > 5 {
                    format!(" …共{}条", e.claims.len())
                } else {
                    String::new()
                };
                format!("{}{more}", shown.join(";"))
            };
            s.push_str(&format!(
                "  n{} -> n{} [label=\"{}\\n{}\"];\n",
                e.from,
                e.to,
                e.kind.zh(),
                dot_escape(&evidence)
            ));
        }
        if self.truncated {
            s.push_str("  truncated [shape=plaintext, label=\"（节点过多，已截断）\"];\n");
        }
        s.push_str("}\n");
        s
    }

    /// JSON: `{center, depth, truncated, nodes: [{key, kind, kind_zh, label, depth}], edges:
    /// [{from, to, kind, kind_zh, claims, table, row}]}` with node keys as endpoints.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "center": self.nodes.first().map(|n| n.key.clone()),
            "depth": self.depth,
            "truncated": self.truncated,
            "nodes": self.nodes.iter().map(|n| json!({
                "key": n.key,
                "kind": n.kind.code(),
                "kind_zh": n.kind.zh(),
                "label": n.label,
                "depth": n.depth,
            })).collect::<Vec<_>>(),
            "edges": self.edges.iter().map(|e| json!({
                "from": self.nodes[e.from].key,
                "to": self.nodes[e.to].key,
                "kind": e.kind.code(),
                "kind_zh": e.kind.zh(),
                "claims": e.claims,
                "table": e.table,
                "row": e.row,
            })).collect::<Vec<_>>(),
        })
    }
}
