//! Work split over the cores in contiguous chunks, with results in input order.

/// `work(chunk)` over `items` split into contiguous chunks, one thread per core as long as each
/// gets at least `minimum_per_thread` items (else on the calling thread); the outputs in chunk
/// order, so callers see exactly what one thread would produce. A chunk whose thread stopped is
/// redone on the calling thread, where any failure shows as it would without threads.
pub fn map_chunks<Item: Sync, Output: Send>(
    items: &[Item],
    minimum_per_thread: usize,
    work: impl Fn(&[Item]) -> Output + Sync,
) -> Vec<Output> {
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(items.len() / minimum_per_thread.max(1))
        .max(1);
    if threads == 1 {
        return vec![work(items)];
    }
    let chunk_size = items.len().div_ceil(threads);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk_size)
            .map(|chunk| (chunk, scope.spawn(move || work(chunk))))
            .collect();
        handles
            .into_iter()
            .map(|(chunk, handle)| handle.join().unwrap_or_else(|_| work(chunk)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_come_back_in_order_and_cover_every_item() {
        let items: Vec<usize> = (0..10_000).collect();
        for minimum in [1, 100, 20_000] {
            let sums = map_chunks(&items, minimum, |chunk| chunk.to_vec());
            assert_eq!(sums.concat(), items, "minimum {minimum}");
        }
        assert_eq!(map_chunks(&items, 20_000, <[usize]>::len), vec![10_000]);
        assert_eq!(map_chunks(&[] as &[usize], 0, <[usize]>::len), vec![0]);
    }
}
