//! Links between organisations (training institutions and employers) through the people and
//! phones they share: the "employer linked to the institution" test of `employment_sham`, and
//! reusable by the entity graph.
//!
//! The graph (petgraph, undirected) has organisation, person and phone nodes and three kinds of
//! edges, all read from the `institutions` and `staff` tables:
//! - legal representative: organisation — person (`institutions.legal_rep_id`)
//! - phone: organisation — phone (`institutions.phone`)
//! - staff: organisation — person (`staff`)
//!
//! Two organisations are linked when a path joins them, within `max_hops` organisation-to-
//! organisation steps if a limit is set. The graph is bipartite (organisations on one side,
//! persons and phones on the other), so a path alternates organisation, connector, organisation.
//! The path reported is a shortest one; neighbours are visited in insertion order, which
//! follows the snapshot's sorted tables, so the same snapshot gives the same path.

use crate::snapshot::Snapshot;
use petgraph::graph::{NodeIndex, UnGraph};
use petgraph::visit::EdgeRef;
use std::collections::VecDeque;

/// A node of the link graph, holding its snapshot id and its text for explanations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkNode {
    Org { id: u32, code: String },
    Person { id: u32, id_number: String },
    Phone { id: u32, number: String },
}

impl LinkNode {
    fn text(&self) -> &str {
        match self {
            LinkNode::Org { code, .. } => code,
            LinkNode::Person { id_number, .. } => id_number,
            LinkNode::Phone { number, .. } => number,
        }
    }
}

/// How an organisation is tied to a person or phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkRole {
    LegalRep,
    Phone,
    Staff,
}

impl LinkRole {
    pub fn zh(self) -> &'static str {
        match self {
            LinkRole::LegalRep => "法定代表人",
            LinkRole::Phone => "联系电话",
            LinkRole::Staff => "工作人员",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            LinkRole::LegalRep => "legal representative",
            LinkRole::Phone => "phone",
            LinkRole::Staff => "staff member",
        }
    }
}

/// One organisation-to-organisation step: `from` has `via` as its `from_role`, and `via` is
/// `to_role` of `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkStep {
    pub from_org: String,
    pub from_role: LinkRole,
    /// The shared person's ID number or the shared phone number.
    pub via: String,
    pub to_role: LinkRole,
    pub to_org: String,
}

impl LinkStep {
    fn zh(&self) -> String {
        let LinkStep {
            from_org,
            from_role,
            via,
            to_role,
            to_org,
        } = self;
        if from_role == to_role {
            format!("{from_org} 与 {to_org} 的{}相同（{via}）", from_role.zh())
        } else {
            format!(
                "{from_org} 的{} {via} 是 {to_org} 的{}",
                from_role.zh(),
                to_role.zh()
            )
        }
    }
    fn en(&self) -> String {
        let LinkStep {
            from_org,
            from_role,
            via,
            to_role,
            to_org,
        } = self;
        if from_role == to_role {
            format!(
                "{from_org} and {to_org} have the same {} ({via})",
                from_role.en()
            )
        } else {
            format!(
                "the {} of {from_org}, {via}, is a {} of {to_org}",
                from_role.en(),
                to_role.en()
            )
        }
    }
}

/// How an employer is linked to an institution: the same organisation (no steps) or a chain of
/// shared legal representatives, phones and staff, from the employer to the institution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkPath {
    pub employer: String,
    pub institution: String,
    pub steps: Vec<LinkStep>,
}

impl LinkPath {
    /// Organisation-to-organisation steps (0: the employer is the institution).
    pub fn hops(&self) -> usize {
        self.steps.len()
    }

    /// e.g. `用工单位 9137… 与培训机构 9137… 关联：9137… 与 9137… 的法定代表人相同（3713…）`
    pub fn zh(&self) -> String {
        if self.steps.is_empty() {
            return format!("用工单位 {} 即培训机构本身", self.employer);
        }
        let chain: Vec<String> = self.steps.iter().map(LinkStep::zh).collect();
        format!(
            "用工单位 {} 与培训机构 {} 关联：{}",
            self.employer,
            self.institution,
            chain.join("；")
        )
    }

    pub fn en(&self) -> String {
        if self.steps.is_empty() {
            return format!("employer {} is the institution itself", self.employer);
        }
        let chain: Vec<String> = self.steps.iter().map(LinkStep::en).collect();
        format!(
            "employer {} is linked to institution {}: {}",
            self.employer,
            self.institution,
            chain.join("; ")
        )
    }
}

/// The organisation link graph of one snapshot.
pub struct OrgLinks {
    graph: UnGraph<LinkNode, LinkRole>,
    /// org id → node, if the organisation has any tie.
    org_node: Vec<Option<NodeIndex>>,
    /// node → connected component (smallest node index in it): unlinked pairs answer at once.
    component: Vec<u32>,
    /// Longest chain accepted, in organisation-to-organisation steps; `None`: any length.
    max_hops: Option<usize>,
    /// Org codes for the same-organisation answer of orgs without ties.
    org_codes: Vec<String>,
}

impl OrgLinks {
    /// Links through chains of any length.
    pub fn build(snap: &Snapshot) -> OrgLinks {
        Self::build_with_max_hops(snap, None)
    }

    /// Links through chains of at most `max_hops` organisation-to-organisation steps.
    pub fn build_with_max_hops(snap: &Snapshot, max_hops: Option<usize>) -> OrgLinks {
        let mut graph: UnGraph<LinkNode, LinkRole> = UnGraph::default();
        let mut org_node = vec![None; snap.orgs.len()];
        let mut person_node = vec![None; snap.ids.len()];
        let mut phone_node = vec![None; snap.phones.len()];
        fn node_of(
            graph: &mut UnGraph<LinkNode, LinkRole>,
            slots: &mut [Option<NodeIndex>],
            id: u32,
            make: impl FnOnce() -> LinkNode,
        ) -> NodeIndex {
            *slots[id as usize].get_or_insert_with(|| graph.add_node(make()))
        }
        // Institutions are sorted by org id and staff by (institution, person): insertion
        // order, and so the paths found, depend only on the snapshot.
        for inst in &snap.institutions {
            if inst.legal_rep != 0 {
                let o = node_of(&mut graph, &mut org_node, inst.org, || org(snap, inst.org));
                let p = node_of(&mut graph, &mut person_node, inst.legal_rep, || {
                    person(snap, inst.legal_rep)
                });
                graph.add_edge(o, p, LinkRole::LegalRep);
            }
            if inst.phone != 0 {
                let o = node_of(&mut graph, &mut org_node, inst.org, || org(snap, inst.org));
                let ph = node_of(&mut graph, &mut phone_node, inst.phone, || {
                    LinkNode::Phone {
                        id: inst.phone,
                        number: snap.phones.resolve(inst.phone).to_string(),
                    }
                });
                graph.add_edge(o, ph, LinkRole::Phone);
            }
        }
        for s in &snap.staff {
            if s.institution != 0 && s.person != 0 {
                let o = node_of(&mut graph, &mut org_node, s.institution, || {
                    org(snap, s.institution)
                });
                let p = node_of(&mut graph, &mut person_node, s.person, || {
                    person(snap, s.person)
                });
                graph.add_edge(o, p, LinkRole::Staff);
            }
        }
        let component = components(&graph);
        let org_codes = (0..snap.orgs.len() as u32)
            .map(|o| snap.orgs.resolve(o).to_string())
            .collect();
        OrgLinks {
            graph,
            org_node,
            component,
            max_hops,
            org_codes,
        }
    }

    /// The underlying graph, for analyses that want more than pairwise links.
    pub fn graph(&self) -> &UnGraph<LinkNode, LinkRole> {
        &self.graph
    }

    /// The node of an organisation, if it has any legal representative, phone or staff tie.
    pub fn node_of_org(&self, org: u32) -> Option<NodeIndex> {
        self.org_node.get(org as usize).copied().flatten()
    }

    /// Whether two organisations are in one connected component (linked at any length).
    pub fn connected(&self, a: u32, b: u32) -> bool {
        a == b
            || match (self.node_of_org(a), self.node_of_org(b)) {
                (Some(x), Some(y)) => self.component[x.index()] == self.component[y.index()],
                _ => false,
            }
    }

    /// How `employer` is linked to `institution`, if it is: the same organisation, or a
    /// shortest chain of shared legal representatives, phones and staff (within `max_hops`).
    pub fn linked(&self, institution: u32, employer: u32) -> Option<LinkPath> {
        let code = |o: u32| self.org_codes.get(o as usize).cloned().unwrap_or_default();
        if institution == employer {
            return Some(LinkPath {
                employer: code(employer),
                institution: code(institution),
                steps: Vec::new(),
            });
        }
        if !self.connected(institution, employer) {
            return None;
        }
        let start = self.node_of_org(employer)?;
        let goal = self.node_of_org(institution)?;
        // Breadth-first search from the employer; `via[n]` = (previous node, edge role).
        let n = self.graph.node_count();
        let mut prev: Vec<Option<(NodeIndex, LinkRole)>> = vec![None; n];
        let mut depth = vec![usize::MAX; n];
        depth[start.index()] = 0;
        let mut queue = VecDeque::from([start]);
        let max_edges = self.max_hops.map(|h| h.saturating_mul(2));
        while let Some(x) = queue.pop_front() {
            if x == goal {
                break;
            }
            if max_edges.is_some_and(|m| depth[x.index()] >= m) {
                continue;
            }
            let mut next: Vec<(NodeIndex, LinkRole)> = self
                .graph
                .edges(x)
                .map(|e| {
                    (
                        if e.source() == x {
                            e.target()
                        } else {
                            e.source()
                        },
                        *e.weight(),
                    )
                })
                .collect();
            // petgraph lists edges newest first; visit them in insertion order.
            next.reverse();
            for (y, role) in next {
                if depth[y.index()] == usize::MAX {
                    depth[y.index()] = depth[x.index()] + 1;
                    prev[y.index()] = Some((x, role));
                    queue.push_back(y);
                }
            }
        }
        if depth[goal.index()] == usize::MAX {
            return None;
        }
        // Walk back from the institution: nodes alternate org, connector, org …
        let mut nodes = vec![(goal, None::<LinkRole>)];
        let mut at = goal;
        while let Some((p, role)) = prev[at.index()] {
            nodes.push((p, Some(role)));
            at = p;
        }
        // Reversed: employer … institution, and entry k holds the role of the edge (k, k+1).
        nodes.reverse();
        let roles: Vec<LinkRole> = nodes.iter().filter_map(|(_, r)| *r).collect();
        let names: Vec<&str> = nodes.iter().map(|(x, _)| self.graph[*x].text()).collect();
        let steps = (0..roles.len() / 2)
            .map(|s| LinkStep {
                from_org: names[2 * s].to_string(),
                from_role: roles[2 * s],
                via: names[2 * s + 1].to_string(),
                to_role: roles[2 * s + 1],
                to_org: names[2 * s + 2].to_string(),
            })
            .collect();
        Some(LinkPath {
            employer: code(employer),
            institution: code(institution),
            steps,
        })
    }
}

fn org(snap: &Snapshot, id: u32) -> LinkNode {
    LinkNode::Org {
        id,
        code: snap.orgs.resolve(id).to_string(),
    }
}

fn person(snap: &Snapshot, id: u32) -> LinkNode {
    LinkNode::Person {
        id,
        id_number: snap.ids.resolve(id).to_string(),
    }
}

/// Connected components by union-find; each node's label is its component's smallest node.
fn components(graph: &UnGraph<LinkNode, LinkRole>) -> Vec<u32> {
    let n = graph.node_count();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for e in graph.edge_references() {
        let (a, b) = (
            find(&mut parent, e.source().index() as u32),
            find(&mut parent, e.target().index() as u32),
        );
        if a != b {
            let (lo, hi) = (a.min(b), a.max(b));
            parent[hi as usize] = lo;
        }
    }
    (0..n as u32).map(|x| find(&mut parent, x)).collect()
}
