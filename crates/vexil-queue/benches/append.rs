//! Append throughput of the embedded log: 100-record batches of ~300-byte values, each
//! call waiting for its `fsync`, alone and with concurrent appenders sharing syncs.
//!
//! `cargo bench -p vexil-queue --bench append`; the directory is a temporary one on the
//! disk `TMPDIR` names (the sync cost is the disk's).

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vexil_queue::embedded::{EmbeddedOptions, EmbeddedQueue};
use vexil_queue::{Producer, Record};

const TOPIC: &str = "vexil.sdk-events.v1";
const BATCH: usize = 100;
const VALUE_BYTES: usize = 300;

/// One request's worth of records: 100 events of 20 contexts, with ingest's headers.
fn batch(request: usize) -> Vec<Record> {
    (0..BATCH)
        .map(|index| {
            let key = format!("env-0123456789abcdef:user-{}", (request + index) % 20);
            Record::new(key, vec![b'e'; VALUE_BYTES], 1_700_000_000_000)
                .with_header("vexil-payload-id", "0b9f3c1e-7a52-4d4c-9a36-3f0f1b1c2d3e")
                .with_header(
                    "traceparent",
                    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                )
        })
        .collect()
}

fn append(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let queue = runtime
        .block_on(EmbeddedQueue::open(dir.path(), EmbeddedOptions::default()))
        .expect("opening the queue");
    let queue = Arc::new(queue);
    let records = batch(0);

    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("one_appender_100x300B", |b| {
        b.iter(|| {
            runtime
                .block_on(queue.append(TOPIC, black_box(&records)))
                .expect("appending")
        })
    });
    for appenders in [8usize, 32] {
        group.throughput(Throughput::Elements((BATCH * appenders) as u64));
        let batches: Vec<Arc<Vec<Record>>> = (0..appenders)
            .map(|request| Arc::new(batch(request)))
            .collect();
        group.bench_function(format!("{appenders}_appenders_100x300B"), |b| {
            b.iter_batched(
                || batches.clone(),
                |batches| {
                    runtime.block_on(async {
                        let tasks: Vec<_> = batches
                            .into_iter()
                            .map(|records| {
                                let queue = queue.clone();
                                tokio::spawn(async move {
                                    queue
                                        .append(TOPIC, &records)
                                        .await
                                        .map(|positions| positions.len())
                                })
                            })
                            .collect();
                        for task in tasks {
                            task.await.expect("appending task").expect("appending");
                        }
                    })
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
    runtime.block_on(queue.close());
}

criterion_group!(benches, append);
criterion_main!(benches);
