//! hcl-edit's parse with a time limit. hcl-edit 0.10 can take exponential time on some
//! malformed input (`fuzz/slow/`: minutes for a kilobyte) and cannot be interrupted, so files
//! are parsed on threads of a small pool: a caller waits for its answer up to a budget, then
//! gives up and leaves that thread to finish on its own (or with the process), out of the pool.
//! A pool rather than a thread per file: a monorepo run parses hundreds of files, and a new
//! thread for each cost more than the rest of their parsing.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SendError, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hcl_edit::parser::Error;
use hcl_edit::structure::Body;

/// Text to parse, shared with the parser thread (which may outlive the caller).
pub type Text = Arc<dyn AsRef<str> + Send + Sync>;

type Answer = Result<Body, Error>;
type Job = (Text, SyncSender<Answer>);

/// Idle parser threads, each waiting on its job channel.
static IDLE: Mutex<Vec<SyncSender<Job>>> = Mutex::new(Vec::new());

/// How long hcl-edit may take on a file: 2 s, and 4 s per megabyte, where it reads 20 MB/s
/// and more (a few MB/s unoptimised), but far short of the minutes it can take on a kilobyte
/// of some malformed input.
pub fn budget(len: usize) -> Duration {
    Duration::from_secs(2) + Duration::from_micros(4 * len as u64)
}

/// Parses `text`, or gives up after [`budget`] and returns it.
pub fn parse(text: Text) -> Result<Answer, Duration> {
    let budget = budget((*text).as_ref().len());
    let Some(worker) = idle_worker() else {
        // No thread to be had: parse here, unbounded, rather than fail.
        return Ok(parse_here(&text));
    };
    let (reply, answer) = mpsc::sync_channel(1);
    if let Err(SendError((text, _))) = worker.send((Arc::clone(&text), reply)) {
        return Ok(parse_here(&text));
    }
    match answer.recv_timeout(budget) {
        Ok(answer) => {
            idle().push(worker);
            Ok(answer)
        }
        Err(RecvTimeoutError::Timeout) => Err(budget),
        // The parser panicked: do it again here, so the panic is this thread's as before.
        Err(RecvTimeoutError::Disconnected) => Ok(parse_here(&text)),
    }
}

fn parse_here(text: &Text) -> Answer {
    hcl_edit::parser::parse_body((**text).as_ref())
}

/// The pool (a panic elsewhere while it was held leaves it usable: it is only a list).
fn idle() -> MutexGuard<'static, Vec<SyncSender<Job>>> {
    IDLE.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// An idle parser thread from the pool, or a new one.
fn idle_worker() -> Option<SyncSender<Job>> {
    if let Some(worker) = idle().pop() {
        return Some(worker);
    }
    let (worker, jobs) = mpsc::sync_channel::<Job>(1);
    std::thread::Builder::new()
        .name("hcl-edit".into())
        .spawn(move || serve(jobs))
        .ok()?;
    Some(worker)
}

/// A parser thread: answers jobs until its channel closes. An answer nobody waits for any
/// more (the caller gave up) is dropped.
fn serve(jobs: Receiver<Job>) {
    for (text, reply) in jobs {
        let _ = reply.send(parse_here(&text));
    }
}
