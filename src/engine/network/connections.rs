//! Connection sets: protocols (TCP, UDP, SCTP) × destination-port ranges, with set algebra and
//! the text forms people and np-guard's netpol-analyzer use (`TCP 80,UDP 53`, `TCP:[1-79], UDP`).

use std::fmt;

use serde::{Serialize, Serializer};

pub const MIN_PORT: u16 = 1;
pub const MAX_PORT: u16 = 65535;

/// The transport protocols NetworkPolicy ports name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// In the order np-guard's explanations list them.
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    /// Case-insensitive: `tcp`, `TCP`, `Udp`…
    pub fn parse(text: &str) -> Option<Protocol> {
        Protocol::ALL
            .into_iter()
            .find(|protocol| protocol.as_str().eq_ignore_ascii_case(text))
    }

    fn index(self) -> usize {
        match self {
            Protocol::Tcp => 0,
            Protocol::Udp => 1,
            Protocol::Sctp => 2,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A set of ports, as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortSet {
    ranges: Vec<(u16, u16)>,
}

impl PortSet {
    pub fn empty() -> PortSet {
        PortSet::default()
    }

    pub fn all() -> PortSet {
        PortSet {
            ranges: vec![(MIN_PORT, MAX_PORT)],
        }
    }

    /// `start..=end`, clipped to 1–65535; empty when the range is.
    pub fn range(start: u16, end: u16) -> PortSet {
        let start = start.max(MIN_PORT);
        if end < start {
            return PortSet::empty();
        }
        PortSet {
            ranges: vec![(start, end)],
        }
    }

    pub fn single(port: u16) -> PortSet {
        PortSet::range(port, port)
    }

    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.ranges == [(MIN_PORT, MAX_PORT)]
    }

    pub fn contains(&self, port: u16) -> bool {
        self.ranges
            .iter()
            .any(|(start, end)| *start <= port && port <= *end)
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        if other.ranges.is_empty() {
            return self.clone();
        }
        if self.ranges.is_empty() {
            return other.clone();
        }
        let mut all: Vec<(u16, u16)> = self
            .ranges
            .iter()
            .chain(other.ranges.iter())
            .copied()
            .collect();
        all.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(all.len());
        for (start, end) in all {
            match merged.last_mut() {
                Some(last) if u32::from(start) <= u32::from(last.1) + 1 => {
                    last.1 = last.1.max(end);
                }
                _ => merged.push((start, end)),
            }
        }
        PortSet { ranges: merged }
    }

    pub fn intersection(&self, other: &PortSet) -> PortSet {
        let mut result = Vec::new();
        let (mut left, mut right) = (0, 0);
        while left < self.ranges.len() && right < other.ranges.len() {
            let (left_start, left_end) = self.ranges[left];
            let (right_start, right_end) = other.ranges[right];
            let start = left_start.max(right_start);
            let end = left_end.min(right_end);
            if start <= end {
                result.push((start, end));
            }
            if left_end < right_end {
                left += 1;
            } else {
                right += 1;
            }
        }
        PortSet { ranges: result }
    }

    pub fn difference(&self, other: &PortSet) -> PortSet {
        let mut result = Vec::new();
        for &(start, end) in &self.ranges {
            let mut cursor = u32::from(start);
            let end = u32::from(end);
            for &(other_start, other_end) in &other.ranges {
                let (other_start, other_end) = (u32::from(other_start), u32::from(other_end));
                if other_end < cursor || other_start > end {
                    continue;
                }
                if other_start > cursor {
                    result.push((cursor as u16, (other_start - 1) as u16));
                }
                cursor = other_end + 1;
                if cursor > end {
                    break;
                }
            }
            if cursor <= end {
                result.push((cursor as u16, end as u16));
            }
        }
        PortSet { ranges: result }
    }

    /// `80`, `8000-8080`, `53,8080-8090`.
    pub fn ranges_text(&self) -> String {
        self.ranges
            .iter()
            .map(|(start, end)| {
                if start == end {
                    start.to_string()
                } else {
                    format!("{start}-{end}")
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Allowed traffic: for each protocol, a set of destination ports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionSet {
    ports: [PortSet; 3],
}

impl ConnectionSet {
    pub fn empty() -> ConnectionSet {
        ConnectionSet::default()
    }

    pub fn all() -> ConnectionSet {
        ConnectionSet {
            ports: [PortSet::all(), PortSet::all(), PortSet::all()],
        }
    }

    pub fn of(protocol: Protocol, ports: PortSet) -> ConnectionSet {
        let mut set = ConnectionSet::empty();
        set.ports[protocol.index()] = ports;
        set
    }

    /// Every port of one protocol.
    pub fn protocol(protocol: Protocol) -> ConnectionSet {
        ConnectionSet::of(protocol, PortSet::all())
    }

    pub fn ports(&self, protocol: Protocol) -> &PortSet {
        &self.ports[protocol.index()]
    }

    pub fn is_empty(&self) -> bool {
        self.ports.iter().all(PortSet::is_empty)
    }

    pub fn is_all(&self) -> bool {
        self.ports.iter().all(PortSet::is_all)
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.ports[protocol.index()].contains(port)
    }

    /// Whether every connection of `other` is in `self`.
    pub fn covers(&self, other: &ConnectionSet) -> bool {
        other.difference(self).is_empty()
    }

    pub fn intersects(&self, other: &ConnectionSet) -> bool {
        !self.intersection(other).is_empty()
    }

    pub fn union(&self, other: &ConnectionSet) -> ConnectionSet {
        ConnectionSet {
            ports: std::array::from_fn(|index| self.ports[index].union(&other.ports[index])),
        }
    }

    pub fn union_with(&mut self, other: &ConnectionSet) {
        for index in 0..3 {
            if !other.ports[index].is_empty() {
                self.ports[index] = self.ports[index].union(&other.ports[index]);
            }
        }
    }

    pub fn intersection(&self, other: &ConnectionSet) -> ConnectionSet {
        ConnectionSet {
            ports: std::array::from_fn(|index| self.ports[index].intersection(&other.ports[index])),
        }
    }

    pub fn difference(&self, other: &ConnectionSet) -> ConnectionSet {
        ConnectionSet {
            ports: std::array::from_fn(|index| self.ports[index].difference(&other.ports[index])),
        }
    }

    /// np-guard's connlist form: `All Connections`, `No Connections`, or `PROTO ports` items
    /// sorted as strings and joined by commas (`SCTP 9,TCP 80,8080-8090,UDP 53`).
    pub fn connlist_text(&self) -> String {
        if self.is_all() {
            return "All Connections".to_string();
        }
        if self.is_empty() {
            return "No Connections".to_string();
        }
        let mut items: Vec<String> = Protocol::ALL
            .into_iter()
            .filter(|protocol| !self.ports(*protocol).is_empty())
            .map(|protocol| format!("{protocol} {}", self.ports(protocol).ranges_text()))
            .collect();
        items.sort();
        items.join(",")
    }

    /// np-guard's explanation form: `TCP, UDP, SCTP` or `TCP:[1-79,81-65535], UDP`.
    pub fn explanation_text(&self) -> String {
        Protocol::ALL
            .into_iter()
            .filter(|protocol| !self.ports(*protocol).is_empty())
            .map(|protocol| {
                let ports = self.ports(protocol);
                if ports.is_all() {
                    protocol.to_string()
                } else {
                    format!("{protocol}:[{}]", ports.ranges_text())
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Splits the set into pieces whose members share the same value of `classify`: the result
    /// pairs each distinct value with the union of the ports mapped to it. `boundaries` are the
    /// sets whose edges may change the value (rule port sets); values are computed per piece.
    pub fn partition<K: Eq + Clone>(
        &self,
        boundaries: &[&ConnectionSet],
        mut classify: impl FnMut(Protocol, u16) -> K,
    ) -> Vec<(K, ConnectionSet)> {
        let mut groups: Vec<(K, ConnectionSet)> = Vec::new();
        for protocol in Protocol::ALL {
            let own = self.ports(protocol);
            if own.is_empty() {
                continue;
            }
            let mut cuts: Vec<u32> = Vec::new();
            for &(start, end) in own.ranges() {
                cuts.push(u32::from(start));
                cuts.push(u32::from(end) + 1);
            }
            for boundary in boundaries {
                for &(start, end) in boundary.ports(protocol).ranges() {
                    cuts.push(u32::from(start));
                    cuts.push(u32::from(end) + 1);
                }
            }
            cuts.sort_unstable();
            cuts.dedup();
            for window in cuts.windows(2) {
                let (start, end) = (window[0], window[1] - 1);
                if start > u32::from(MAX_PORT) || start < u32::from(MIN_PORT) {
                    continue;
                }
                let piece = PortSet::range(start as u16, end as u16).intersection(own);
                if piece.is_empty() {
                    continue;
                }
                let key = classify(protocol, start as u16);
                let addition = ConnectionSet::of(protocol, piece);
                match groups.iter_mut().find(|(existing, _)| *existing == key) {
                    Some((_, set)) => set.union_with(&addition),
                    None => groups.push((key, addition)),
                }
            }
        }
        groups
    }
}

impl fmt::Display for ConnectionSet {
    /// For people: `all traffic`, `no traffic`, `TCP/80, TCP/8000-8080, UDP/53`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return formatter.write_str("all traffic");
        }
        if self.is_empty() {
            return formatter.write_str("no traffic");
        }
        let mut items = Vec::new();
        for protocol in Protocol::ALL {
            let ports = self.ports(protocol);
            if ports.is_all() {
                items.push(format!("{protocol}/any"));
                continue;
            }
            for (start, end) in ports.ranges() {
                if start == end {
                    items.push(format!("{protocol}/{start}"));
                } else {
                    items.push(format!("{protocol}/{start}-{end}"));
                }
            }
        }
        formatter.write_str(&items.join(", "))
    }
}

impl Serialize for ConnectionSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.connlist_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(start: u16, end: u16) -> ConnectionSet {
        ConnectionSet::of(Protocol::Tcp, PortSet::range(start, end))
    }

    #[test]
    fn port_set_algebra() {
        let a = PortSet::range(10, 20).union(&PortSet::range(30, 40));
        let b = PortSet::range(15, 35);
        assert_eq!(a.intersection(&b).ranges(), &[(15, 20), (30, 35)]);
        assert_eq!(a.difference(&b).ranges(), &[(10, 14), (36, 40)]);
        assert_eq!(
            PortSet::range(1, 5).union(&PortSet::range(6, 9)).ranges(),
            &[(1, 9)]
        );
        assert_eq!(
            PortSet::all().difference(&PortSet::single(80)).ranges(),
            &[(1, 79), (81, 65535)]
        );
        assert!(PortSet::range(5, 4).is_empty());
        assert!(PortSet::all().difference(&PortSet::all()).is_empty());
    }

    #[test]
    fn connlist_text_sorts_protocol_items_as_strings() {
        let set = tcp(8080, 8080)
            .union(&tcp(9090, 9090))
            .union(&ConnectionSet::of(Protocol::Udp, PortSet::single(8080)));
        assert_eq!(set.connlist_text(), "TCP 8080,9090,UDP 8080");
        let with_sctp = tcp(10053, 10054)
            .union(&ConnectionSet::of(Protocol::Sctp, PortSet::all()))
            .union(&ConnectionSet::of(Protocol::Udp, PortSet::single(10053)));
        assert_eq!(
            with_sctp.connlist_text(),
            "SCTP 1-65535,TCP 10053-10054,UDP 10053"
        );
        assert_eq!(ConnectionSet::all().connlist_text(), "All Connections");
        assert_eq!(ConnectionSet::empty().connlist_text(), "No Connections");
    }

    #[test]
    fn explanation_text_lists_protocols_in_fixed_order() {
        let set = ConnectionSet::all().difference(&tcp(80, 80));
        assert_eq!(set.explanation_text(), "TCP:[1-79,81-65535], UDP, SCTP");
        assert_eq!(tcp(80, 80).explanation_text(), "TCP:[80]");
    }

    #[test]
    fn partition_groups_ports_by_key() {
        let rule = tcp(80, 80);
        let groups = ConnectionSet::all().partition(&[&rule], |protocol, port| {
            protocol == Protocol::Tcp && port == 80
        });
        assert_eq!(groups.len(), 2);
        let allowed = groups.iter().find(|(key, _)| *key).unwrap();
        assert_eq!(allowed.1, rule);
        let denied = groups.iter().find(|(key, _)| !*key).unwrap();
        assert_eq!(denied.1, ConnectionSet::all().difference(&rule));
    }

    #[test]
    fn display_is_for_people() {
        assert_eq!(
            tcp(80, 80)
                .union(&ConnectionSet::protocol(Protocol::Udp))
                .to_string(),
            "TCP/80, UDP/any"
        );
    }
}
