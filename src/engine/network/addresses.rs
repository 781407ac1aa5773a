//! IP addresses and ranges: CIDR parsing (IPv4 and IPv6), ipBlock `cidr` minus `except`, and the
//! disjoint partition of the address space that connectivity lists use for external peers.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    fn last(self) -> u128 {
        match self {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpRange {
    pub family: Family,
    pub start: u128,
    pub end: u128,
}

impl IpRange {
    pub fn whole(family: Family) -> IpRange {
        IpRange {
            family,
            start: 0,
            end: family.last(),
        }
    }

    pub fn address(address: IpAddr) -> IpRange {
        let (family, value) = address_value(address);
        IpRange {
            family,
            start: value,
            end: value,
        }
    }

    /// `10.0.0.0/8`, `fd00::/64`, or a bare address (a single-address range). Host bits set
    /// below the prefix are ignored, as the apiserver's own CIDR parsing does.
    pub fn parse(text: &str) -> Result<IpRange, String> {
        let text = text.trim();
        let (address_text, prefix_text) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address_text
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or CIDR"))?;
        let (family, value) = address_value(address);
        let prefix = match prefix_text {
            None => family.bits(),
            Some(prefix) => prefix
                .parse::<u32>()
                .ok()
                .filter(|prefix| *prefix <= family.bits())
                .ok_or_else(|| format!("`{text}` has an invalid prefix length"))?,
        };
        let host_bits = family.bits() - prefix;
        let host_mask: u128 = if host_bits == 0 {
            0
        } else if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let start = value & !host_mask & family.last();
        Ok(IpRange {
            family,
            start,
            end: start | host_mask,
        })
    }

    pub fn contains(&self, other: &IpRange) -> bool {
        self.family == other.family && self.start <= other.start && other.end <= self.end
    }

    pub fn overlaps(&self, other: &IpRange) -> bool {
        self.family == other.family && self.start <= other.end && other.start <= self.end
    }

    pub fn contains_address(&self, address: IpAddr) -> bool {
        self.contains(&IpRange::address(address))
    }

    pub fn is_single_address(&self) -> bool {
        self.start == self.end
    }

    /// Always `first-last`, even for one address (np-guard's connlist form: `1.2.3.4-1.2.3.4`).
    pub fn range_text(&self) -> String {
        format!(
            "{}-{}",
            value_text(self.family, self.start),
            value_text(self.family, self.end)
        )
    }
}

fn address_value(address: IpAddr) -> (Family, u128) {
    match address {
        IpAddr::V4(v4) => (Family::V4, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (Family::V4, u128::from(u32::from(v4))),
            None => (Family::V6, u128::from(v6)),
        },
    }
}

fn value_text(family: Family, value: u128) -> String {
    match family {
        Family::V4 => Ipv4Addr::from(value as u32).to_string(),
        Family::V6 => Ipv6Addr::from(value).to_string(),
    }
}

impl fmt::Display for IpRange {
    /// `10.0.0.0-10.255.255.255` (np-guard's form), or the address alone for a single address.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            return formatter.write_str(&value_text(self.family, self.start));
        }
        write!(
            formatter,
            "{}-{}",
            value_text(self.family, self.start),
            value_text(self.family, self.end)
        )
    }
}

impl Serialize for IpRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

/// A set of addresses as disjoint ranges: an ipBlock's `cidr` minus its `except` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressSet {
    ranges: Vec<IpRange>,
}

impl AddressSet {
    pub fn from_block(cidr: &str, except: &[String]) -> Result<AddressSet, String> {
        let mut ranges = vec![IpRange::parse(cidr)?];
        for excluded in except {
            let excluded = IpRange::parse(excluded)?;
            ranges = ranges
                .into_iter()
                .flat_map(|range| subtract(range, excluded))
                .collect();
        }
        Ok(AddressSet { ranges })
    }

    pub fn ranges(&self) -> &[IpRange] {
        &self.ranges
    }

    /// How much of `range` the set covers.
    pub fn coverage(&self, range: &IpRange) -> Coverage {
        let mut covered: u128 = 0;
        let mut any = false;
        for own in &self.ranges {
            if !own.overlaps(range) {
                continue;
            }
            any = true;
            if own.contains(range) {
                return Coverage::Full;
            }
            let start = own.start.max(range.start);
            let end = own.end.min(range.end);
            covered = covered.saturating_add(end - start).saturating_add(1);
        }
        let size = (range.end - range.start).saturating_add(1);
        if !any {
            Coverage::None
        } else if covered >= size && size != 0 {
            Coverage::Full
        } else {
            Coverage::Partial
        }
    }
}

/// How much of a range an address set covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    Full,
    Partial,
    None,
}

fn subtract(range: IpRange, excluded: IpRange) -> Vec<IpRange> {
    if !range.overlaps(&excluded) {
        return vec![range];
    }
    let mut pieces = Vec::new();
    if excluded.start > range.start {
        pieces.push(IpRange {
            end: excluded.start - 1,
            ..range
        });
    }
    if excluded.end < range.end {
        pieces.push(IpRange {
            start: excluded.end + 1,
            ..range
        });
    }
    pieces
}

/// Splits the whole IPv4 space (and the IPv6 space when any block is IPv6) at every edge of
/// `blocks`, giving contiguous ranges each of which is either inside or outside every block.
pub fn partition(blocks: &[&AddressSet]) -> Vec<IpRange> {
    let mut result = Vec::new();
    let has_v6 = blocks
        .iter()
        .any(|block| block.ranges.iter().any(|range| range.family == Family::V6));
    let families: &[Family] = if has_v6 {
        &[Family::V4, Family::V6]
    } else {
        &[Family::V4]
    };
    for family in families {
        let max = family.last();
        // Cut points are the first address of each piece.
        let mut cuts: Vec<u128> = vec![0];
        for block in blocks {
            for range in block.ranges.iter().filter(|range| range.family == *family) {
                cuts.push(range.start);
                if range.end < max {
                    cuts.push(range.end + 1);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        for (index, start) in cuts.iter().enumerate() {
            let end = match cuts.get(index + 1) {
                Some(next) => next - 1,
                None => max,
            };
            result.push(IpRange {
                family: *family,
                start: *start,
                end,
            });
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_parse_for_both_families() {
        let range = IpRange::parse("10.0.0.0/8").unwrap();
        assert_eq!(range.to_string(), "10.0.0.0-10.255.255.255");
        assert_eq!(
            IpRange::parse("0.0.0.0/0").unwrap().to_string(),
            "0.0.0.0-255.255.255.255"
        );
        assert_eq!(IpRange::parse("10.1.2.3").unwrap().to_string(), "10.1.2.3");
        assert_eq!(
            IpRange::parse("10.1.2.3/24").unwrap().to_string(),
            "10.1.2.0-10.1.2.255"
        );
        assert_eq!(
            IpRange::parse("fd00::/120").unwrap().to_string(),
            "fd00::-fd00::ff"
        );
        assert_eq!(IpRange::parse("::/0").unwrap(), IpRange::whole(Family::V6));
        assert!(IpRange::parse("10.0.0.0/33").is_err());
        assert!(IpRange::parse("web").is_err());
    }

    #[test]
    fn blocks_with_except_cover_what_they_should() {
        let block = AddressSet::from_block(
            "0.0.0.0/0",
            &["10.0.0.0/8".to_string(), "172.30.0.0/16".to_string()],
        )
        .unwrap();
        let inside = IpRange::parse("8.8.8.8").unwrap();
        let excluded = IpRange::parse("10.1.1.1").unwrap();
        assert_eq!(block.coverage(&inside), Coverage::Full);
        assert_eq!(block.coverage(&excluded), Coverage::None);
        assert_eq!(
            block.coverage(&IpRange::parse("10.0.0.0/7").unwrap()),
            Coverage::Partial
        );
        let v6 = AddressSet::from_block("fd00::/8", &["fd00::/16".to_string()]).unwrap();
        assert_eq!(
            v6.coverage(&IpRange::parse("fd01::1").unwrap()),
            Coverage::Full
        );
        assert_eq!(
            v6.coverage(&IpRange::parse("fd00::1").unwrap()),
            Coverage::None
        );
        assert_eq!(v6.coverage(&inside), Coverage::None);
    }

    #[test]
    fn partition_splits_at_every_edge() {
        let block = AddressSet::from_block(
            "0.0.0.0/0",
            &[
                "10.0.0.0/8".to_string(),
                "172.21.0.0/16".to_string(),
                "172.30.0.0/16".to_string(),
            ],
        )
        .unwrap();
        let pieces: Vec<String> = partition(&[&block])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            pieces,
            [
                "0.0.0.0-9.255.255.255",
                "10.0.0.0-10.255.255.255",
                "11.0.0.0-172.20.255.255",
                "172.21.0.0-172.21.255.255",
                "172.22.0.0-172.29.255.255",
                "172.30.0.0-172.30.255.255",
                "172.31.0.0-255.255.255.255"
            ]
        );
        assert_eq!(partition(&[]), vec![IpRange::whole(Family::V4)]);
    }
}
