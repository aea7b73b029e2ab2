//! Evaluation on the common paths (off, target, string and number rules, rollout, segment
//! targets) performs no heap allocation, checked with a counting global allocator.
#![allow(unsafe_code)] // The counting allocator must implement `GlobalAlloc`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use serde_json::json;
use vexil_eval::{evaluate, AllData, Context, FlagData, Store};

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn common_evaluation_paths_do_not_allocate() {
    let keys: Vec<String> = (0..1000).map(|i| format!("user-{i}")).collect();
    let data = FlagData::from_all_data(
        serde_json::from_value::<AllData>(json!({
            "flags": {
                "off": {"on": false, "offVariation": 0, "variations": [false, true]},
                "target": {"on": true, "variations": [false, true], "fallthrough": {"variation": 0},
                    "targets": [{"values": keys, "variation": 1}]},
                "rules": {"on": true, "variations": [false, true], "fallthrough": {"variation": 0},
                    "rules": [
                        {"id": "s", "variation": 0, "clauses": [{"contextKind": "user", "attribute": "plan", "op": "in", "values": ["free"], "negate": false}]},
                        {"id": "n", "variation": 1, "clauses": [{"contextKind": "user", "attribute": "/org/seats", "op": "greaterThan", "values": [10], "negate": false}]}]},
                "rollout": {"on": true, "salt": "x", "variations": ["a", "b", "c"], "fallthrough": {"rollout": {"variations": [
                    {"variation": 0, "weight": 30000}, {"variation": 1, "weight": 30000}, {"variation": 2, "weight": 40000}]}}},
                "segment": {"on": true, "variations": [false, true], "fallthrough": {"variation": 0},
                    "rules": [{"id": "seg", "variation": 1, "clauses": [{"attribute": "", "op": "segmentMatch", "values": ["beta"], "negate": false}]}]}
            },
            "segments": {"beta": {"key": "beta", "included": ["user-7"], "salt": "y"}}
        }))
        .unwrap(),
    );
    let context = Context::from_json(
        &json!({"kind": "user", "key": "user-7", "plan": "pro", "org": {"seats": 50}}),
    )
    .unwrap();
    for key in ["off", "target", "rules", "rollout", "segment"] {
        let flag = data.flag(key).unwrap();
        let mut variation = None;
        let count =
            allocations_during(|| variation = evaluate(flag, &context, &data).variation_index);
        assert!(variation.is_some(), "flag {key} served a variation");
        assert_eq!(count, 0, "evaluating flag {key} allocated {count} times");
    }
}
