//! `bucketing/hash`: the SHA-1 bucket of a flag's `key.salt` prefix and a context key.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use vexil_eval::bucketing::bucket;

fn bucketing_hash(c: &mut Criterion) {
    let (prefix, key) = (
        "checkout-redesign.f3a9c0d1e2b4",
        "user-8c1f2e7a-4b3d-4e9a-9f00-1234567890ab",
    );
    c.bench_function("bucketing/hash", |b| {
        b.iter(|| bucket(black_box(prefix), black_box(key)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = bucketing_hash
}
criterion_main!(benches);
