//! Speech workers: ASR on a pool of OS threads, TTS on its own thread(s), never on the async
//! runtime. Jobs wait in a [`FairQueue`]: one bounded queue per call, served round-robin, so a
//! chatty call cannot starve the others. Results go back to the call's bounded work channel.
//!
//! Static agent responses are synthesised once at start ([`PromptCache`]) and replayed.

use super::metrics::Metrics;
use sb_speech::asr::{Asr, AsrFailure, AsrLoad, AsrOptions, AsrPriority, CancelFlag, Transcript};
use sb_speech::tts::{PromptCache, Tts};

use super::choices::CallSpeech;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::mpsc;

/// A result for one call, tagged with the bot turn it belongs to.
#[derive(Debug)]
pub enum Work {
    Asr {
        turn: u64,
        result: Result<Transcript, AsrFailure>,
    },
    Tts {
        turn: u64,
        pcm16k: Vec<i16>,
        last: bool,
    },
    TtsFailed {
        turn: u64,
        error: String,
    },
    Webhook {
        turn: u64,
        outcome: sb_nlu::webhook::WebhookOutcome,
    },
}

/// Bounded per-key FIFOs served round-robin by blocking workers.
pub struct FairQueue<J> {
    inner: Mutex<Fair<J>>,
    ready: Condvar,
    per_key: usize,
}

struct Fair<J> {
    queues: HashMap<u64, VecDeque<J>>,
    order: VecDeque<u64>,
    closed: bool,
}

impl<J> FairQueue<J> {
    pub fn new(per_key: usize) -> Self {
        FairQueue {
            inner: Mutex::new(Fair {
                queues: HashMap::new(),
                order: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
            per_key: per_key.max(1),
        }
    }

    /// Queues `job` for `key`; gives it back when that key's queue is full or the queue closed.
    pub fn push(&self, key: u64, job: J) -> Result<(), J> {
        self.push_with(key, job, false)
    }

    /// Queues `job` for `key` in place of any job of that key still waiting (a newer request
    /// makes them stale, as a later recognition of the same caller does).
    pub fn push_latest(&self, key: u64, job: J) -> Result<(), J> {
        self.push_with(key, job, true)
    }

    fn push_with(&self, key: u64, job: J, replace: bool) -> Result<(), J> {
        let Ok(mut g) = self.inner.lock() else {
            return Err(job);
        };
        if g.closed {
            return Err(job);
        }
        let q = g.queues.entry(key).or_default();
        let queued = !q.is_empty();
        if replace {
            q.clear();
        }
        if q.len() >= self.per_key {
            return Err(job);
        }
        q.push_back(job);
        if !queued {
            g.order.push_back(key);
        }
        drop(g);
        self.ready.notify_one();
        Ok(())
    }

    /// Blocks for the next job (round-robin over keys); `None` once closed and drained.
    pub fn pop(&self) -> Option<(u64, J)> {
        let mut g = self.inner.lock().ok()?;
        loop {
            while let Some(key) = g.order.pop_front() {
                let Some(q) = g.queues.get_mut(&key) else {
                    continue;
                };
                let Some(job) = q.pop_front() else {
                    g.queues.remove(&key);
                    continue;
                };
                if q.is_empty() {
                    g.queues.remove(&key);
                } else {
                    g.order.push_back(key);
                }
                return Some((key, job));
            }
            if g.closed {
                return None;
            }
            g = self.ready.wait(g).ok()?;
        }
    }

    /// Jobs waiting, over all keys.
    pub fn waiting(&self) -> usize {
        self.inner
            .lock()
            .map(|g| g.queues.values().map(VecDeque::len).sum())
            .unwrap_or(0)
    }

    /// Drops every job queued for `key` (the call ended).
    pub fn forget(&self, key: u64) {
        if let Ok(mut g) = self.inner.lock() {
            g.queues.remove(&key);
        }
    }

    pub fn close(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.closed = true;
        }
        self.ready.notify_all();
    }
}

struct AsrJob {
    turn: u64,
    /// A guess at a pause (the call core falls back to the end of speech without it).
    speculative: bool,
    pcm: Vec<i16>,
    prompt: Option<String>,
    reply: mpsc::Sender<Work>,
    cancel: CancelFlag,
    /// The call's own recogniser (`None`: the server's).
    asr: Option<Arc<dyn Asr>>,
}

struct TtsJob {
    turn: u64,
    steps: Vec<Step>,
    reply: mpsc::Sender<Work>,
    /// The call's own voice (`None`: the server's, and its prompt cache).
    voice: Option<Arc<dyn Tts>>,
}

/// One step of a reply, played in order: words, silence (SSML `<break>`) or a fetched clip.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Words at `rate` times the voice's speed.
    Say {
        text: String,
        rate: f32,
    },
    Silence {
        ms: u32,
    },
    /// 16 kHz audio.
    Clip(Arc<[i16]>),
}

/// The speech worker pools of the server.
pub struct Speech {
    asr: Arc<FairQueue<AsrJob>>,
    tts: Arc<FairQueue<TtsJob>>,
    /// Static responses at 16 kHz.
    prompts: Arc<HashMap<String, Arc<[i16]>>>,
    metrics: Arc<Metrics>,
    /// Recognitions running now, on `asr_workers` workers.
    asr_running: Arc<Running>,
    asr_workers: usize,
    /// Each call's latest recognition (turn, flag), so that it can be cancelled.
    asr_latest: Mutex<HashMap<u64, (u64, CancelFlag)>>,
    /// Calls with their own voice or recogniser.
    chosen: Mutex<HashMap<u64, CallSpeech>>,
}

/// Most prompts synthesised at start.
const MAX_PROMPTS: usize = 300;
/// Silence kept before a reply's first sound; the voice's own lead-in (20–60 ms for Piper joe)
/// would only delay it.
const LEAD_KEEP_MS: u32 = 10;

fn to_16k(pcm: &[i16], rate: u32) -> Result<Vec<i16>, String> {
    if rate == 16_000 {
        return Ok(pcm.to_vec());
    }
    let f = sb_audio::i16_to_f32(pcm);
    sb_audio::resample(&f, rate, 16_000)
        .map(|r| sb_audio::f32_to_i16(&r))
        .map_err(|e| e.to_string())
}

fn prompt_key(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What [`Speech::start`] synthesises before the first call.
pub struct Texts<'a> {
    /// Static responses, kept whole (the prompt cache).
    pub prompts: &'a [String],
    /// Dynamic responses with plain words for their parameters: only their first chunk is
    /// synthesised, so a TTS unit cache holds their static openings.
    pub openings: &'a [String],
}

impl Speech {
    /// Starts `asr_workers` ASR threads and `tts_workers` TTS threads, after synthesising the
    /// [`Texts`]. Blocking: call from a blocking context.
    pub fn start(
        asr: Arc<dyn Asr>,
        tts: Arc<dyn Tts>,
        asr_workers: usize,
        tts_workers: usize,
        jobs_per_call: usize,
        texts: Texts<'_>,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Speech>, String> {
        let Texts { prompts, openings } = texts;
        for o in openings.iter().take(MAX_PROMPTS) {
            tts.synthesize(o, &mut |_| false)
                .map_err(|e| format!("cannot synthesise the opening of {o:?}: {e}"))?;
        }
        let texts: Vec<&str> = prompts
            .iter()
            .map(String::as_str)
            .take(MAX_PROMPTS)
            .collect();
        let cache = PromptCache::build(&*tts, texts.iter().copied())
            .map_err(|e| format!("cannot synthesise the agent's prompts: {e}"))?;
        let mut prompts16 = HashMap::new();
        for t in texts {
            if let Some(a) = cache.get(t) {
                let mut pcm = to_16k(&a, cache.sample_rate())?;
                pcm.drain(..sb_audio::leading_silence(&pcm, 16_000, LEAD_KEEP_MS));
                prompts16.insert(prompt_key(t), Arc::from(pcm));
            }
        }
        let workers = asr_workers.max(1);
        let running = Arc::new(Running::default());
        let speech = Arc::new(Speech {
            asr: Arc::new(FairQueue::new(jobs_per_call)),
            tts: Arc::new(FairQueue::new(jobs_per_call)),
            prompts: Arc::new(prompts16),
            metrics,
            asr_running: running.clone(),
            asr_workers: workers,
            asr_latest: Mutex::new(HashMap::new()),
            chosen: Mutex::new(HashMap::new()),
        });
        for i in 0..workers {
            let (q, asr, running) = (speech.asr.clone(), asr.clone(), running.clone());
            std::thread::Builder::new()
                .name(format!("sb-asr-{i}"))
                .spawn(move || asr_worker(&q, &*asr, &running, workers))
                .map_err(|e| format!("cannot start ASR worker: {e}"))?;
        }
        for i in 0..tts_workers.max(1) {
            let (q, tts, prompts) = (speech.tts.clone(), tts.clone(), speech.prompts.clone());
            std::thread::Builder::new()
                .name(format!("sb-tts-{i}"))
                .spawn(move || tts_worker(&q, &*tts, &prompts))
                .map_err(|e| format!("cannot start TTS worker: {e}"))?;
        }
        Ok(speech)
    }

    pub fn prompt_count(&self) -> usize {
        self.prompts.len()
    }

    /// The recognisers' load now (uncancelled recognitions running, jobs waiting), which
    /// decides whether a guess runs ([`AsrPriority::runs`]): under load each utterance is
    /// recognised once, at its end.
    pub fn asr_load(&self) -> AsrLoad {
        let (active, waiting) = (self.asr_running.active(), self.asr.waiting());
        if active >= self.asr_workers || waiting > 0 {
            AsrLoad::Busy
        } else if active == 0 {
            AsrLoad::Idle
        } else {
            AsrLoad::Spare
        }
    }

    /// Queues a recognition; `false` (and counted) when the call's queue is full. One that
    /// [`AsrPriority::preempts`] and finds no free worker stops another call's guess.
    pub fn recognize(
        &self,
        call: u64,
        turn: u64,
        priority: AsrPriority,
        pcm: Vec<i16>,
        prompt: Option<String>,
        reply: mpsc::Sender<Work>,
    ) -> bool {
        let cancel = CancelFlag::new();
        if let Ok(mut m) = self.asr_latest.lock() {
            if m.insert(call, (turn, cancel.clone())).is_none() {
                self.asr_running.calls.fetch_add(1, Ordering::Relaxed);
            }
        }
        let job = AsrJob {
            turn,
            speculative: priority.is_guess(),
            pcm,
            prompt,
            reply,
            cancel,
            asr: self.chosen(call).and_then(|c| c.asr),
        };
        // One turn of a call is recognised at a time: an older request still waiting is stale.
        let ok = self.asr.push_latest(call, job).is_ok();
        if !ok {
            self.metrics.dropped("asr");
        } else if priority.preempts()
            && self.asr_running.active() >= self.asr_workers
            && self.asr_running.preempt_speculative(call)
        {
            self.metrics.dropped("preempted_asr");
        }
        ok
    }

    /// Cached audio of a static prompt, or queues a synthesis. `false` when dropped.
    pub fn synthesize(
        &self,
        call: u64,
        turn: u64,
        text: String,
        reply: mpsc::Sender<Work>,
    ) -> bool {
        self.speak(call, turn, vec![Step::Say { text, rate: 1.0 }], reply)
    }

    /// Plays `steps` in order (one answer chunk per step or sentence, the last one flagged);
    /// a reply that is one static prompt comes from the cache at once. `false` when dropped.
    pub fn speak(&self, call: u64, turn: u64, steps: Vec<Step>, reply: mpsc::Sender<Work>) -> bool {
        let voice = self.chosen(call).and_then(|c| c.voice);
        let cached = match &steps[..] {
            [Step::Say { text, rate }] if *rate == 1.0 && voice.is_none() => {
                self.prompts.get(&prompt_key(text))
            }
            _ => None,
        };
        if let Some(a) = cached {
            let w = Work::Tts {
                turn,
                pcm16k: a.to_vec(),
                last: true,
            };
            if reply.try_send(w).is_err() {
                self.metrics.dropped("work");
                return false;
            }
            return true;
        }
        let job = TtsJob {
            turn,
            steps,
            reply,
            voice,
        };
        let ok = self.tts.push(call, job).is_ok();
        if !ok {
            self.metrics.dropped("tts");
        }
        ok
    }

    /// Stops `turn`'s recognition if it is still waiting or running (its answer, an error,
    /// still arrives).
    pub fn cancel_asr(&self, call: u64, turn: u64) {
        if let Ok(m) = self.asr_latest.lock() {
            if let Some((t, flag)) = m.get(&call) {
                if *t == turn {
                    flag.cancel();
                }
            }
        }
    }

    /// From now on `call` speaks with `choice.voice` and is recognised by `choice.asr` (each
    /// `None`: the server's).
    pub fn choose(&self, call: u64, choice: CallSpeech) {
        if let Ok(mut m) = self.chosen.lock() {
            if choice.voice.is_none() && choice.asr.is_none() {
                m.remove(&call);
            } else {
                m.insert(call, choice);
            }
        }
    }

    fn chosen(&self, call: u64) -> Option<CallSpeech> {
        self.chosen.lock().ok()?.get(&call).cloned()
    }

    /// Drops a finished call's queued jobs.
    pub fn forget(&self, call: u64) {
        if let Ok(mut m) = self.chosen.lock() {
            m.remove(&call);
        }
        if let Ok(mut m) = self.asr_latest.lock() {
            if m.remove(&call).is_some() {
                self.asr_running.calls.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.asr.forget(call);
        self.tts.forget(call);
    }

    /// Stops the workers once their queues are empty.
    pub fn close(&self) {
        self.asr.close();
        self.tts.close();
    }
}

/// What a call's driver asks of the speech side: [`Speech`], the worker pools, in production. A
/// test may put scripted recognisers and synthesisers behind it that answer on the runtime's
/// (virtual) clock instead of on OS threads.
pub trait SpeechService: Send + Sync {
    /// See [`Speech::asr_load`].
    fn asr_load(&self) -> AsrLoad;
    /// See [`Speech::recognize`].
    fn recognize(
        &self,
        call: u64,
        turn: u64,
        priority: AsrPriority,
        pcm: Vec<i16>,
        prompt: Option<String>,
        reply: mpsc::Sender<Work>,
    ) -> bool;
    /// See [`Speech::cancel_asr`].
    fn cancel_asr(&self, call: u64, turn: u64);
    /// See [`Speech::speak`].
    fn speak(&self, call: u64, turn: u64, steps: Vec<Step>, reply: mpsc::Sender<Work>) -> bool;
    /// See [`Speech::choose`]. A service without choices keeps its own voice and recogniser.
    fn choose(&self, call: u64, choice: CallSpeech) {
        let _ = (call, choice);
    }
    /// See [`Speech::forget`].
    fn forget(&self, call: u64);
    /// Static prompts held ready.
    fn prompt_count(&self) -> usize {
        0
    }
    /// See [`Speech::close`].
    fn close(&self) {}
}

impl SpeechService for Speech {
    fn asr_load(&self) -> AsrLoad {
        Speech::asr_load(self)
    }
    fn recognize(
        &self,
        call: u64,
        turn: u64,
        priority: AsrPriority,
        pcm: Vec<i16>,
        prompt: Option<String>,
        reply: mpsc::Sender<Work>,
    ) -> bool {
        Speech::recognize(self, call, turn, priority, pcm, prompt, reply)
    }
    fn cancel_asr(&self, call: u64, turn: u64) {
        Speech::cancel_asr(self, call, turn)
    }
    fn speak(&self, call: u64, turn: u64, steps: Vec<Step>, reply: mpsc::Sender<Work>) -> bool {
        Speech::speak(self, call, turn, steps, reply)
    }
    fn choose(&self, call: u64, choice: CallSpeech) {
        Speech::choose(self, call, choice)
    }
    fn forget(&self, call: u64) {
        Speech::forget(self, call)
    }
    fn prompt_count(&self) -> usize {
        Speech::prompt_count(self)
    }
    fn close(&self) {
        Speech::close(self)
    }
}

/// One running recognition: its cancel flag, call and whether it is speculative.
struct RunningJob {
    flag: CancelFlag,
    call: u64,
    speculative: bool,
}

/// The recognitions running now. A cancelled one is winding down (whisper.cpp stops at its
/// next graph node) and no longer counts as busy.
#[derive(Default)]
struct Running {
    jobs: Mutex<Vec<RunningJob>>,
    /// Calls that have asked for a recognition and not ended.
    calls: AtomicUsize,
}

impl Running {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RunningJob>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a job may take every worker's thread: nothing else runs and no other call could
    /// start a recognition beside it. whisper.cpp's threads spin at barriers, so a two-thread
    /// job that meets a second job on two cores slows several-fold (speech_bench, two
    /// processes: 4–6 s utterances 333 ms median one-threaded beside a one-threaded job, 914 ms
    /// two-threaded beside one).
    fn may_take_all(&self, others_active: usize) -> bool {
        others_active == 0 && self.calls.load(Ordering::Relaxed) <= 1
    }

    /// Running recognitions that were not cancelled.
    fn active(&self) -> usize {
        self.lock()
            .iter()
            .filter(|j| !j.flag.is_cancelled())
            .count()
    }

    /// Records a job as running; returns how many others are active.
    fn start(&self, flag: &CancelFlag, call: u64, speculative: bool) -> usize {
        let mut g = self.lock();
        let others = g.iter().filter(|j| !j.flag.is_cancelled()).count();
        g.push(RunningJob {
            flag: flag.clone(),
            call,
            speculative,
        });
        others
    }

    /// Cancels the most recently started speculative recognition of a call other than `call`
    /// (it has done the least work); whether there was one.
    fn preempt_speculative(&self, call: u64) -> bool {
        let g = self.lock();
        let victim = g
            .iter()
            .rev()
            .find(|j| j.speculative && j.call != call && !j.flag.is_cancelled());
        if let Some(j) = victim {
            j.flag.cancel();
        }
        victim.is_some()
    }

    fn finish(&self, flag: &CancelFlag) {
        let mut g = self.lock();
        if let Some(i) = g.iter().position(|j| j.flag == *flag) {
            g.remove(i); // keeps start order (preemption picks the newest)
        }
    }
}

/// Runs recognitions. A job of the only call on the line, while no other (uncancelled)
/// recognition runs, uses one thread per worker (the pool is sized to the cores): a lone caller
/// gets the whole machine, also when its previous, cancelled, guess is still stopping. With
/// more calls every job gets one core ([`Running::may_take_all`]).
fn asr_worker(q: &FairQueue<AsrJob>, asr: &dyn Asr, running: &Running, workers: usize) {
    while let Some((call, job)) = q.pop() {
        if job.reply.is_closed() {
            continue; // the call is gone
        }
        let alone = running.may_take_all(running.start(&job.cancel, call, job.speculative));
        let pcm = sb_audio::i16_to_f32(&job.pcm);
        // Speech carries ~3-4 tokens a second; the cap bounds decoding time when the model
        // falls into a repetition loop.
        let secs = job.pcm.len() / 16_000;
        let opts = AsrOptions {
            initial_prompt: job.prompt,
            beam_size: 1,
            max_tokens: (12 + 6 * secs).min(AsrOptions::default().max_tokens),
            threads: if alone { workers } else { 0 },
            cancel: Some(job.cancel.clone()),
            // The endpointer's utterance starts with its pre-roll.
            lead_in_ms: 0,
        };
        let t0 = std::time::Instant::now();
        let asr = job.asr.as_deref().unwrap_or(asr);
        let result = asr.transcribe(&pcm, &opts).map_err(AsrFailure::from);
        running.finish(&job.cancel);
        tracing::debug!(
            audio_ms = job.pcm.len() / 16,
            took_ms = t0.elapsed().as_millis() as u64,
            ok = result.is_ok(),
            "ASR"
        );
        let _ = job.reply.blocking_send(Work::Asr {
            turn: job.turn,
            result,
        });
    }
}

fn tts_worker(q: &FairQueue<TtsJob>, tts: &dyn Tts, prompts: &HashMap<String, Arc<[i16]>>) {
    let no_prompts = HashMap::new();
    while let Some((_, job)) = q.pop() {
        if job.reply.is_closed() {
            continue;
        }
        let (turn, reply) = (job.turn, &job.reply);
        // A call's own voice does not use the default voice's prompts.
        let (tts, prompts) = match job.voice.as_deref() {
            Some(v) => (v, &no_prompts),
            None => (tts, prompts),
        };
        let send = |pcm16k: Vec<i16>| {
            reply
                .blocking_send(Work::Tts {
                    turn,
                    pcm16k,
                    last: false,
                })
                .is_ok()
        };
        let mut failed = None;
        let mut first = true;
        let t0 = std::time::Instant::now();
        for step in job.steps {
            let going = match step {
                Step::Silence { ms } => send(vec![0; ms as usize * 16]),
                Step::Clip(pcm) => {
                    first = false;
                    send(pcm.to_vec())
                }
                Step::Say { text, rate } => match prompts.get(&prompt_key(&text)) {
                    Some(a) if rate == 1.0 => {
                        first = false;
                        send(a.to_vec())
                    }
                    _ => match say(tts, &text, rate, &mut first, t0, &send) {
                        Ok(going) => going,
                        Err(e) => {
                            failed = Some(e);
                            false
                        }
                    },
                },
            };
            if !going {
                break;
            }
        }
        let end = match failed {
            Some(error) => Work::TtsFailed { turn, error },
            None => Work::Tts {
                turn,
                pcm16k: Vec::new(),
                last: true,
            },
        };
        let _ = reply.blocking_send(end);
    }
}

/// Synthesises `text` sentence by sentence into `send`; `Ok(false)` when the call is gone.
fn say(
    tts: &dyn Tts,
    text: &str,
    rate: f32,
    first: &mut bool,
    t0: std::time::Instant,
    send: &dyn Fn(Vec<i16>) -> bool,
) -> Result<bool, String> {
    let sample_rate = tts.sample_rate();
    let mut failed = None;
    let mut going = true;
    let r = tts.synthesize_at(
        text,
        rate,
        &mut |chunk| match to_16k(&chunk.samples, sample_rate) {
            Ok(mut pcm16k) => {
                if std::mem::take(first) {
                    tracing::debug!(
                        audio_ms = pcm16k.len() / 16,
                        took_ms = t0.elapsed().as_millis() as u64,
                        "TTS first chunk"
                    );
                    pcm16k.drain(..sb_audio::leading_silence(&pcm16k, 16_000, LEAD_KEEP_MS));
                }
                going = send(pcm16k);
                going
            }
            Err(e) => {
                failed = Some(e);
                false
            }
        },
    );
    match (r, failed) {
        (Err(e), _) => Err(e.to_string()),
        (Ok(()), Some(e)) => Err(e),
        (Ok(()), None) => Ok(going),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fair_queue_round_robin_and_caps() {
        let q = FairQueue::new(2);
        assert!(q.push(1, "a1").is_ok());
        assert!(q.push(1, "a2").is_ok());
        assert_eq!(q.push(1, "a3"), Err("a3"));
        assert!(q.push(2, "b1").is_ok());
        assert_eq!(q.pop(), Some((1, "a1")));
        assert_eq!(q.pop(), Some((2, "b1")));
        assert_eq!(q.pop(), Some((1, "a2")));
        assert!(q.push(3, "c1").is_ok());
        q.forget(3);
        q.close();
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn a_final_recognition_stops_the_newest_guess_of_another_call() {
        let running = Running::default();
        let (a, b, c, d) = (
            CancelFlag::new(),
            CancelFlag::new(),
            CancelFlag::new(),
            CancelFlag::new(),
        );
        assert_eq!(running.start(&a, 1, true), 0);
        assert_eq!(running.start(&b, 2, false), 1);
        assert_eq!(running.start(&c, 3, true), 2);
        running.start(&d, 4, true);
        // Call 4's own guess is never the victim; call 3's (newest of the others) is.
        assert!(running.preempt_speculative(4));
        assert!(c.is_cancelled() && !a.is_cancelled() && !b.is_cancelled() && !d.is_cancelled());
        assert_eq!(running.active(), 3);
        assert!(running.preempt_speculative(4));
        assert!(a.is_cancelled());
        // Only final recognitions (and the caller's own guess) are left.
        assert!(!running.preempt_speculative(4));
        assert!(!b.is_cancelled() && !d.is_cancelled());
        // A finished job leaves the others in start order: the newest guess is still the victim.
        let running = Running::default();
        let (f, older, newer) = (CancelFlag::new(), CancelFlag::new(), CancelFlag::new());
        running.start(&f, 1, false);
        running.start(&older, 2, true);
        running.start(&newer, 3, true);
        running.finish(&f);
        assert!(running.preempt_speculative(1));
        assert!(newer.is_cancelled() && !older.is_cancelled());
    }

    #[test]
    fn only_the_one_call_on_the_line_gets_every_thread() {
        let running = Running::default();
        running.calls.store(1, Ordering::Relaxed);
        assert!(running.may_take_all(0));
        assert!(!running.may_take_all(1), "another recognition runs");
        running.calls.store(2, Ordering::Relaxed);
        assert!(
            !running.may_take_all(0),
            "another call may start one beside it"
        );
    }

    #[test]
    fn a_newer_request_replaces_the_waiting_one() {
        let q = FairQueue::new(2);
        assert!(q.push_latest(1, "early").is_ok());
        assert!(q.push(2, "b1").is_ok());
        assert!(q.push_latest(1, "whole").is_ok());
        assert_eq!(q.pop(), Some((1, "whole")));
        assert_eq!(q.pop(), Some((2, "b1")));
        q.close();
        assert_eq!(q.pop(), None);
    }
}
