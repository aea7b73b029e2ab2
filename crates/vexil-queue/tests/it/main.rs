//! The embedded queue's tests: the shared contract, then what only a log on disk has
//! (durability across reopening and crashes, segments and their deletion, the directory).

mod contract;
mod directory;
mod durability;
mod retention;
mod support;
