// forv-tts page: type Korean text, pick a voice, hear it as it streams, read along, replay, download.
//
// Speak posts to /v1/audio/speech with stream_format "sse" and response_format "pcm": server-sent events
// that carry, for each sentence, its times (a forv_tts.sentence event, before its audio) and then its
// 16-bit PCM (speech.audio.delta, base64; the rate is the X-Sample-Rate header). The page reads the body
// with fetch() + ReadableStream and schedules each piece of PCM back to back on a Web Audio clock: the
// first sound comes as soon as the first sentence arrives, and the sentence and word (어절) being heard
// are marked from that clock (which sample is playing, not a timer). At the end the same samples become
// the finished clip: a WAV in an <audio> player (replay, seek, click a word to play from it) with the
// captions as its <track>, the WAV download (no second request), the captions written from the times
// the stream carried (POST /v1/audio/captions with `sentences`: nothing synthesised again), and MP3 and
// Opus made on request by the service from the same text, voice, speed and seed (the same samples).
//
// window.forvTtsPage holds what happened (state, timings, samples scheduled and played, the loudest
// sample the graph rendered, the playback position and what is marked); the browser tests and
// bench/page_first_sound.py read it.
"use strict";

(() => {
  const KEY_STORAGE = "forv-tts.api-key";
  // How far ahead the first piece (or one after a gap) is scheduled: more than one render quantum
  // (128 frames) plus main-thread jitter, so the next piece joins it exactly where it ends.
  const LEAD_S = 0.02;
  // A seed the service takes (it accepts up to 2**64 - 1; JSON numbers are exact to 2**53).
  const SEED_LIMIT = 2 ** 53;

  const $ = (id) => document.getElementById(id);
  const els = {
    app: $("app"),
    form: $("speak-form"),
    text: $("text"),
    voice: $("voice"),
    voiceHint: $("voice-hint"),
    speed: $("speed"),
    speedValue: $("speed-value"),
    speak: $("speak"),
    stop: $("stop"),
    clip: $("clip"),
    transcript: $("transcript"),
    player: $("player"),
    track: $("captions-track"),
    downloads: $("downloads"),
    download: $("download"),
    downloadMp3: $("download-mp3"),
    downloadOpus: $("download-opus"),
    downloadVtt: $("download-vtt"),
    downloadSrt: $("download-srt"),
    captionDownloads: $("caption-downloads"),
    status: $("status"),
    error: $("error"),
    normalized: $("normalized"),
    normalizedEmpty: $("normalized-empty"),
    keyDialog: $("key-dialog"),
    keyForm: $("key-form"),
    keyInput: $("key"),
    keyMessage: $("key-message"),
  };

  // What each Speak starts afresh (the page's own state and totals are kept across runs).
  function freshRun() {
    return {
      normalized: [],
      chunks: 0,
      samplesReceived: 0,
      scheduledSeconds: 0,
      playedSeconds: 0,
      peak: 0,
      underruns: 0,
      firstByteMs: null,
      firstAudioMs: null,
      firstSoundMs: null,
      firstPieceSamples: 0,
      totalMs: null,
      sampleRate: null,
      normalizeError: null,
      sentences: [], // each sentence's times as the stream carried them ({text, start, end, words})
      position: null, // seconds into the clip being heard, when something plays
      source: null, // what `position` came from: "stream" (the Web Audio clock) or "player"
      currentSentence: -1, // the marked sentence and word (indices), -1 for none
      currentWord: -1,
      seed: null,
      downloads: {}, // format -> "encoding" | "ready" | "failed"
      captions: null, // "ready" once the <track> and caption downloads hold the clip's captions
    };
  }

  const stats = {
    state: "loading",
    runs: 0,
    voices: [],
    error: null,
    contextRate: null,
    outputLatencyMs: null,
    keyPrompts: 0,
    ...freshRun(),
  };
  window.forvTtsPage = stats;

  // --- small helpers -------------------------------------------------------------------------------

  function setState(state) {
    stats.state = state;
    els.app.dataset.state = state;
  }

  function publish() {
    // The same figures as data- attributes, for anything that reads the DOM rather than scripts.
    const d = els.app.dataset;
    d.samplesReceived = String(stats.samplesReceived);
    d.scheduledSeconds = stats.scheduledSeconds.toFixed(3);
    d.playedSeconds = stats.playedSeconds.toFixed(3);
    d.peak = stats.peak.toFixed(4);
    if (stats.firstSoundMs !== null) d.firstSoundMs = stats.firstSoundMs.toFixed(1);
  }

  function say(ko, en) {
    els.status.textContent = en ? `${ko} · ${en}` : ko;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  }

  const HEADLINES = {
    unauthorized: ["API 키가 필요하거나 맞지 않습니다", "An API key is needed, or it was not accepted"],
    text_too_long: ["텍스트가 너무 깁니다", "The text is too long"],
    nothing_to_say: ["읽을 수 있는 한국어가 없습니다", "Nothing speakable in the text"],
    invalid_request: ["요청이 올바르지 않습니다", "The request is not valid"],
    validation_error: ["요청이 올바르지 않습니다", "The request is not valid"],
    unknown_member: ["목소리를 찾을 수 없습니다", "Unknown voice"],
    unavailable: ["서비스를 지금 쓸 수 없습니다", "The service is unavailable"],
    timeout: ["시간이 초과되었습니다", "Timed out"],
    network: ["서버에 연결할 수 없습니다", "Cannot reach the server"],
    bad_stream: ["오디오 스트림을 읽을 수 없습니다", "The audio stream could not be read"],
  };

  function showError(err, keepClip) {
    // keepClip: the error is about one download of a finished clip, whose player and other files stay.
    stats.error = err;
    const [ko, en] = HEADLINES[err.code] || ["오류", "Error"];
    els.error.replaceChildren(
      el("strong", {}, `${ko} · ${en}`),
      el("br"),
      err.message || "",
      " ",
      el("code", {}, [err.status, err.code].filter(Boolean).join(" ")),
    );
    if (err.field) els.error.append(" ", el("code", {}, `field: ${err.field}`));
    els.error.hidden = false;
    // On a phone the box may be above the fold: bring it into view, nothing stale beside it.
    if (!keepClip) els.downloads.hidden = true;
    els.error.scrollIntoView({ block: "nearest" });
  }

  function clearError() {
    stats.error = null;
    els.error.hidden = true;
    els.error.replaceChildren();
  }

  async function errorOf(response) {
    // The service answers errors as {"error": {"code", "message", "field"}}; anything else (a proxy's
    // page, a framework's {"detail"}) still gets a readable line.
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    const e = body && body.error;
    if (e && typeof e === "object") {
      return { status: response.status, code: e.code, message: e.message, field: e.field || null };
    }
    const detail = body && (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
    return {
      status: response.status,
      code: response.status === 401 ? "unauthorized" : `http_${response.status}`,
      message: detail || response.statusText || `HTTP ${response.status}`,
      field: null,
    };
  }

  // --- API key: asked for once, kept for this tab only ---------------------------------------------

  let memoryKey = null;
  function getKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE) || memoryKey;
    } catch (_) {
      return memoryKey;
    }
  }
  function setKey(key) {
    memoryKey = key;
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch (_) {
      // Storage disabled: the key lives in this page's memory only.
    }
  }

  let keyPrompt = null; // one dialog even when several requests are refused at once
  function askKey(rejected) {
    if (keyPrompt) return keyPrompt;
    stats.keyPrompts += 1;
    const opener = document.activeElement;
    els.keyMessage.replaceChildren(
      rejected
        ? "키가 맞지 않습니다. 다시 입력하세요. · The key was not accepted: type it again."
        : "이 서비스는 API 키가 필요합니다. 이 탭에서만 기억합니다. · " +
            "This service needs an API key. It is kept for this tab only.",
    );
    els.keyInput.value = "";
    keyPrompt = new Promise((resolve) => {
      els.keyDialog.addEventListener(
        "close",
        () => {
          const key = els.keyDialog.returnValue === "ok" ? els.keyInput.value.trim() : "";
          els.keyInput.value = "";
          keyPrompt = null;
          if (opener && typeof opener.focus === "function") opener.focus();
          resolve(key || null);
        },
        { once: true },
      );
    });
    els.keyDialog.returnValue = "";
    els.keyDialog.showModal();
    els.keyInput.focus();
    return keyPrompt;
  }

  async function api(path, init) {
    // fetch() with the tab's key; on 401 ask for a key and try again (until the user cancels).
    const sentWith = new Set();
    for (;;) {
      const key = getKey();
      const headers = Object.assign({}, (init && init.headers) || {});
      if (key) headers.Authorization = `Bearer ${key}`;
      let response;
      try {
        response = await fetch(path, Object.assign({}, init, { headers }));
      } catch (err) {
        if (err && err.name === "AbortError") throw err;
        const e = new Error(String(err && err.message ? err.message : err));
        e.info = { status: 0, code: "network", message: `${path}: ${e.message}`, field: null };
        throw e;
      }
      if (response.status !== 401) return response;
      if (key) sentWith.add(key);
      const current = getKey();
      if (current && !sentWith.has(current)) continue; // another request already got a new key
      if (current) setKey(null);
      const fresh = await askKey(sentWith.size > 0);
      if (!fresh) return response; // cancelled: the caller shows the 401's own error body
      setKey(fresh);
    }
  }

  // --- voices ---------------------------------------------------------------------------------------

  function voiceLabel(v) {
    if (v.id === "builtin") return `기본 목소리 · Built-in voice${v.engine ? ` (${v.engine})` : ""}`;
    return `멤버 ${v.id} · Member ${v.id}${v.engine ? ` (${v.engine})` : ""}`;
  }

  async function loadVoices() {
    say("목소리 목록을 불러오는 중…", "Loading voices…");
    let response;
    try {
      response = await api("/v1/audio/voices", { headers: { Accept: "application/json" } });
    } catch (err) {
      showError(err.info || { code: "network", message: String(err) });
      setState("idle");
      say("목소리 목록을 불러오지 못했습니다", "Could not load the voices");
      return;
    }
    if (!response.ok) {
      showError(await errorOf(response));
      setState("idle");
      say("목소리 목록을 불러오지 못했습니다", "Could not load the voices");
      return;
    }
    const body = await response.json();
    const voices = Array.isArray(body.voices) ? body.voices : [];
    stats.voices = voices.map((v) => String(v.id));
    const previous = els.voice.value;
    const options = [];
    if (!voices.some((v) => String(v.id) === "builtin")) {
      options.push(el("option", { value: "builtin" }, voiceLabel({ id: "builtin" })));
    }
    for (const v of voices) {
      const id = String(v.id);
      const attrs = { value: id };
      if (v.sample_rate) attrs["data-rate"] = String(v.sample_rate);
      let label = voiceLabel(Object.assign({}, v, { id }));
      if (v.usable === false) {
        attrs.disabled = "";
        label += " — 쓸 수 없음 · unusable";
      } else if (v.workers === 0) {
        label += " — 작업자 없음 · no worker yet";
      }
      options.push(el("option", attrs, label));
    }
    els.voice.replaceChildren(...options);
    if ([...els.voice.options].some((o) => o.value === previous && !o.disabled)) els.voice.value = previous;
    const members = voices.filter((v) => String(v.id) !== "builtin").length;
    els.voiceHint.textContent = members
      ? `멤버 ${members}명과 기본 목소리 · ${members} member voice(s) and the built-in voice`
      : "설치된 멤버가 없어 기본 목소리만 있습니다 · No member installed: the built-in voice only";
    els.voiceHint.hidden = false;
    setState("idle");
    say("준비됨", "Ready");
  }

  // --- normalised text ------------------------------------------------------------------------------

  function renderNormalized(sentences) {
    stats.normalized = sentences.map((s) => s.pronounced);
    const items = sentences.map((s) =>
      el(
        "li",
        {},
        el("p", { class: "pronounced", lang: "ko" }, s.pronounced),
        el(
          "dl",
          {},
          el("dt", {}, "원문 · Written"),
          el("dd", { lang: "ko" }, s.sentence),
          // Numbers, dates and symbols spelled out, when that changed anything.
          ...(s.expanded !== s.sentence
            ? [el("dt", {}, "풀어쓰기 · Spelled out"), el("dd", { lang: "ko" }, s.expanded)]
            : []),
          // Why: each rule that rewrote a span (and the lexicon's entries, named by rule "lexicon").
          ...(Array.isArray(s.rewrites) && s.rewrites.length
            ? [
                el("dt", {}, "규칙 · Rules"),
                el(
                  "dd",
                  {},
                  el(
                    "ul",
                    { class: "rewrites" },
                    ...s.rewrites.map((r) =>
                      el("li", { lang: "ko" }, `${r.span} → ${r.reading}`, " ", el("code", {}, r.rule)),
                    ),
                  ),
                ),
              ]
            : []),
          ...(Array.isArray(s.lexicon) && s.lexicon.length
            ? [
                el("dt", {}, "사전 · Lexicon"),
                el(
                  "dd",
                  {},
                  s.lexicon.map((e) => `${e.written} → ${e.spoken} (${e.source})`).join(", "),
                ),
              ]
            : []),
        ),
      ),
    );
    els.normalized.replaceChildren(...items);
    els.normalizedEmpty.hidden = items.length > 0;
  }

  async function showNormalized(text, signal, runId) {
    // Never left on "Normalising…": an aborted or failed request says so (and nothing rejects unhandled).
    try {
      await fetchNormalized(text, signal, runId);
    } catch (err) {
      if (runId === stats.runs) {
        els.normalizedEmpty.textContent = (err && err.info && err.info.message) || String(err);
        els.normalizedEmpty.hidden = false;
      }
    }
  }

  function normalizeStopped(runId) {
    if (runId !== stats.runs || els.normalized.childElementCount > 0) return;
    els.normalizedEmpty.textContent = "정리를 멈췄습니다 · Not shown: the request failed or was stopped";
    els.normalizedEmpty.hidden = false;
  }

  async function fetchNormalized(text, signal, runId) {
    let response;
    try {
      response = await api("/v1/normalize", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ text }),
        signal,
      });
    } catch (err) {
      if (err && err.name === "AbortError") return normalizeStopped(runId);
      els.normalizedEmpty.textContent = (err.info && err.info.message) || String(err);
      els.normalizedEmpty.hidden = false;
      return;
    }
    if (runId !== stats.runs) return; // a later Speak owns the section now
    if (!response.ok) {
      const e = await errorOf(response);
      stats.normalizeError = e;
      els.normalizedEmpty.textContent = `${e.message} (${e.status} ${e.code})`;
      els.normalizedEmpty.hidden = false;
      return;
    }
    let body;
    try {
      body = await response.json();
    } catch (err) {
      if (err && err.name === "AbortError") return normalizeStopped(runId);
      throw err;
    }
    if (runId !== stats.runs) return;
    renderNormalized(Array.isArray(body.sentences) ? body.sentences : []);
  }

  // --- read-along: the sentences and words with their times ---------------------------------------

  function clock(seconds) {
    const s = Math.max(0, seconds);
    return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
  }

  function addSentence(timing) {
    // One forv_tts.sentence event: its words as spans the highlight and a click find by their times.
    const index = stats.sentences.length;
    const words = Array.isArray(timing.words) && timing.words.length ? timing.words : [];
    const sentence = {
      text: String(timing.text || ""),
      start: Number(timing.start) || 0,
      end: Number(timing.end) || 0,
      words: words.map((w) => ({ text: String(w.text), start: Number(w.start), end: Number(w.end) })),
    };
    stats.sentences.push(Object.assign({}, timing, { start: sentence.start, end: sentence.end }));
    const seek = el(
      "button",
      { type: "button", class: "seek", "data-start": String(sentence.start), disabled: "" },
      el("span", { "aria-hidden": "true" }, "▶"),
      el(
        "span",
        { class: "visually-hidden" },
        `${index + 1}번 문장부터 듣기 · Play from sentence ${index + 1} (${clock(sentence.start)})`,
      ),
    );
    const spans = (sentence.words.length ? sentence.words : [{ text: sentence.text, start: sentence.start, end: sentence.end }]).map(
      (w, i) =>
        el(
          "span",
          { class: "word", "data-index": String(i), "data-start": String(w.start), "data-end": String(w.end) },
          w.text,
        ),
    );
    const text = el("span", { class: "text" });
    spans.forEach((span, i) => {
      if (i) text.append(" ");
      text.append(span);
    });
    const item = el(
      "li",
      { class: "sentence", "data-index": String(index), "data-start": String(sentence.start), "data-end": String(sentence.end) },
      seek,
      " ",
      text,
    );
    item.timing = sentence;
    els.transcript.append(item);
    els.clip.hidden = false;
  }

  function locate(position) {
    // The sentence heard at `position` (from its start until the next one's: the pause after it is
    // still it; the last one known, until its end) and the word whose own span holds it (none in a
    // pause). A member's long sentence streams in parts and its times come with the last: until
    // then nothing is marked, rather than the sentence before it.
    const items = els.transcript.children;
    let sentence = -1;
    for (let i = 0; i < items.length; i++) {
      if (items[i].timing.start <= position) sentence = i;
      else break;
    }
    if (sentence === items.length - 1 && sentence >= 0 && position >= items[sentence].timing.end) sentence = -1;
    let word = -1;
    if (sentence >= 0) {
      const words = items[sentence].querySelectorAll(".word");
      for (let i = 0; i < words.length; i++) {
        if (Number(words[i].dataset.start) <= position && position < Number(words[i].dataset.end)) {
          word = i;
          break;
        }
      }
    }
    return [sentence, word];
  }

  function mark(position, source) {
    // Mark what is heard at `position` seconds into the clip (null: nothing plays, nothing marked).
    stats.position = position;
    stats.source = position === null ? null : source;
    const [sentence, word] = position === null ? [-1, -1] : locate(position);
    if (sentence === stats.currentSentence && word === stats.currentWord) return;
    const items = els.transcript.children;
    const old = items[stats.currentSentence];
    const moved = sentence !== stats.currentSentence;
    // Keep the sentence heard in view, unless the reader scrolled away from the last one (then the
    // page does not pull them back); a stream's first sentence is brought into view.
    const following = old ? inView(old) : source === "stream";
    if (old) {
      old.classList.remove("current");
      old.removeAttribute("aria-current");
      const w = old.querySelector(".word.current");
      if (w) w.classList.remove("current");
    }
    stats.currentSentence = sentence;
    stats.currentWord = word;
    const item = items[sentence];
    if (!item) return;
    item.classList.add("current");
    item.setAttribute("aria-current", "true");
    const span = item.querySelectorAll(".word")[word];
    if (span) span.classList.add("current");
    if (moved && following && !inView(item)) {
      const still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      item.scrollIntoView({ block: "center", behavior: still ? "auto" : "smooth" });
    }
  }

  function inView(node) {
    const r = node.getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight && r.top >= 0 && r.bottom <= window.innerHeight;
  }

  function clearTranscript() {
    els.transcript.replaceChildren();
    stats.currentSentence = -1;
    stats.currentWord = -1;
  }

  // --- the PCM stream -> Web Audio ------------------------------------------------------------------

  function wavBlob(rate, channels, parts, dataBytes) {
    const header = new ArrayBuffer(44);
    const v = new DataView(header);
    const text = (at, s) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
    text(0, "RIFF");
    v.setUint32(4, 36 + dataBytes, true);
    text(8, "WAVE");
    text(12, "fmt ");
    v.setUint32(16, 16, true);
    v.setUint16(20, 1, true);
    v.setUint16(22, channels, true);
    v.setUint32(24, rate, true);
    v.setUint32(28, rate * channels * 2, true);
    v.setUint16(32, channels * 2, true);
    v.setUint16(34, 16, true);
    text(36, "data");
    v.setUint32(40, dataBytes, true);
    return new Blob([header, ...parts], { type: "audio/wav" });
  }

  let audio = null; // {ctx, gain, analyser}: one graph, rebuilt only for another sample rate

  function audioGraph(rate) {
    if (audio && (!rate || audio.ctx.sampleRate === rate)) return audio;
    if (audio) audio.ctx.close();
    const Ctx = window.AudioContext || window.webkitAudioContext;
    let ctx;
    try {
      // At the voice's own rate there is no resampling, so pieces join sample-exactly.
      ctx = rate ? new Ctx({ sampleRate: rate, latencyHint: "interactive" }) : new Ctx();
    } catch (_) {
      ctx = new Ctx();
    }
    const gain = ctx.createGain();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    gain.connect(analyser);
    analyser.connect(ctx.destination);
    audio = { ctx, gain, analyser, probe: new Float32Array(analyser.fftSize) };
    stats.contextRate = ctx.sampleRate;
    return audio;
  }

  function heardAt(ctx) {
    // The context time of the sample leaving the speakers now (getOutputTimestamp counts the output's
    // latency), or the render clock where the browser cannot tell.
    if (typeof ctx.getOutputTimestamp === "function") {
      const t = ctx.getOutputTimestamp();
      if (t && t.contextTime > 0) return t.contextTime;
    }
    return ctx.currentTime;
  }

  function streamPosition(run) {
    // Seconds into the clip of the sample heard now: the piece scheduled around that context time, its
    // clip offset plus how far into it the clock is (in a gap between pieces: where the last one ended).
    if (run.firstStart === null) return null;
    const t = heardAt(run.graph.ctx);
    if (t < run.firstStart) return null;
    let position = 0;
    for (const seg of run.segments) {
      if (t < seg.at) break;
      position = seg.clip + Math.min(t - seg.at, seg.seconds);
    }
    return position;
  }

  let current = null; // the run being played

  function stopRun(run, state) {
    if (!run || run.finished) return;
    run.finished = true;
    run.abort.abort();
    if (state !== "done") run.normalizeAbort.abort(); // a finished clip's text may still be on its way
    clearInterval(run.timer);
    for (const src of run.sources) {
      try {
        src.stop();
      } catch (_) {
        // not started yet or already ended
      }
    }
    run.sources.length = 0;
    if (current === run) current = null;
    els.stop.disabled = true;
    mark(null, null);
    setState(state);
    publish();
  }

  function watch(run) {
    // While playing: how far the clock got, and the loudest sample the graph rendered.
    const { ctx, analyser, probe } = run.graph;
    if (run.firstStart !== null) {
      stats.playedSeconds = Math.max(0, Math.min(ctx.currentTime - run.firstStart, stats.scheduledSeconds));
      analyser.getFloatTimeDomainData(probe);
      for (let i = 0; i < probe.length; i++) {
        const a = Math.abs(probe[i]);
        if (a > stats.peak) stats.peak = a;
      }
      if (!run.finished) mark(streamPosition(run), "stream");
    }
    publish();
    if (run.streamDone && ctx.currentTime >= run.nextTime) finish(run);
  }

  function follow(run) {
    // Mark the words once a frame while the stream plays (the 100-ms watch also does, in a hidden tab).
    if (run.finished || current !== run) return;
    if (run.firstStart !== null) mark(streamPosition(run), "stream");
    requestAnimationFrame(() => follow(run));
  }

  function revoke(link) {
    if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  }

  function resetClip() {
    // Nothing of the last clip stays beside a new one (or a new error).
    els.player.pause();
    els.player.hidden = true;
    els.player.removeAttribute("src");
    els.track.removeAttribute("src");
    els.player.load();
    els.downloads.hidden = true;
    for (const link of [els.download, els.downloadMp3, els.downloadOpus, els.downloadVtt, els.downloadSrt]) {
      revoke(link);
      link.href = "#";
      link.removeAttribute("aria-busy");
    }
    els.downloadMp3.removeAttribute("download");
    els.downloadOpus.removeAttribute("download");
    els.captionDownloads.hidden = true;
    for (const b of els.transcript.querySelectorAll("button.seek")) b.disabled = true;
    els.transcript.classList.remove("seekable");
    clip = null;
  }

  let clip = null; // the finished clip: what a download in another format asks the service for

  function finish(run) {
    stats.totalMs = performance.now() - run.t0;
    const seconds = stats.scheduledSeconds;
    if (run.bytes > 0) {
      const blob = wavBlob(run.header.rate, run.header.channels, run.parts, run.bytes);
      revoke(els.download);
      const url = URL.createObjectURL(blob);
      const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
      const name = `forv-tts-${run.voice}-${stamp}`;
      clip = { request: run.request, name, runId: stats.runs };
      els.download.href = url;
      els.download.download = `${name}.wav`;
      els.player.src = url; // the same blob: replay and seek the samples just heard
      els.player.hidden = false;
      els.downloads.hidden = false;
      for (const b of els.transcript.querySelectorAll("button.seek")) b.disabled = false;
      els.transcript.classList.add("seekable");
      loadCaptions(clip);
    }
    stopRun(run, "done");
    say(
      `끝 — ${seconds.toFixed(1)}초, 첫 소리까지 ${Math.round(stats.firstSoundMs)} ms`,
      `Done — ${seconds.toFixed(1)} s of audio, first sound after ${Math.round(stats.firstSoundMs)} ms`,
    );
  }

  async function loadCaptions(done) {
    // WebVTT for the player's <track> and both caption downloads, written by the service from the
    // times the stream carried (nothing is synthesised again).
    const sentences = stats.sentences;
    const fetchOne = async (format) => {
      const response = await api("/v1/audio/captions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sentences, format }),
      });
      if (!response.ok) {
        const e = new Error("captions refused");
        e.info = await errorOf(response);
        throw e;
      }
      return response.blob();
    };
    try {
      const [vtt, srt] = await Promise.all([fetchOne("vtt"), fetchOne("srt")]);
      if (clip !== done) return; // a later Speak owns the player now
      const vttUrl = URL.createObjectURL(vtt);
      els.track.src = vttUrl;
      els.downloadVtt.href = vttUrl;
      els.downloadVtt.download = `${done.name}.vtt`;
      els.downloadSrt.href = URL.createObjectURL(srt);
      els.downloadSrt.download = `${done.name}.srt`;
      els.captionDownloads.hidden = false;
      stats.captions = "ready";
    } catch (err) {
      if (clip !== done) return;
      stats.captions = "failed";
      showError((err && err.info) || { code: "network", message: String(err) }, true);
    }
  }

  async function downloadAs(link) {
    // MP3 or Opus of the clip: the service speaks the same text, voice, speed and seed again in that
    // format (the same samples; the page cannot encode either itself), once, then the link is a file.
    const format = link.dataset.format;
    const done = clip;
    if (!done || stats.downloads[format] === "encoding") return;
    stats.downloads[format] = "encoding";
    link.setAttribute("aria-busy", "true");
    const label = format === "mp3" ? "MP3" : "Opus";
    say(`${label} 만드는 중…`, `Making the ${label}…`);
    try {
      const response = await api("/v1/audio/speech", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({}, done.request, { response_format: format })),
      });
      if (!response.ok) {
        const e = new Error("speech refused");
        e.info = await errorOf(response);
        throw e;
      }
      const blob = await response.blob();
      if (clip !== done) return;
      link.href = URL.createObjectURL(blob);
      link.download = `${done.name}.${format === "mp3" ? "mp3" : "ogg"}`;
      stats.downloads[format] = "ready";
      say(`${label} 준비됨`, `${label} ready`);
      link.click(); // now a plain download link
    } catch (err) {
      if (clip !== done) return;
      stats.downloads[format] = "failed";
      showError((err && err.info) || { code: "network", message: String(err) }, true);
    } finally {
      link.removeAttribute("aria-busy");
    }
  }

  function schedule(run, pcm) {
    // Decode whole frames of little-endian 16-bit PCM and play them right after what is scheduled.
    const { channels, rate } = run.header;
    const frameBytes = 2 * channels;
    let bytes = pcm;
    if (run.carry) {
      bytes = new Uint8Array(run.carry.length + pcm.length);
      bytes.set(run.carry);
      bytes.set(pcm, run.carry.length);
      run.carry = null;
    }
    const frames = Math.floor(bytes.length / frameBytes);
    if (bytes.length > frames * frameBytes) run.carry = bytes.slice(frames * frameBytes);
    if (frames === 0) return;
    const whole = bytes.subarray(0, frames * frameBytes);
    run.parts.push(whole.slice());
    run.bytes += whole.length;

    const { ctx, gain } = run.graph;
    const buffer = ctx.createBuffer(channels, frames, rate);
    const view = new DataView(whole.buffer, whole.byteOffset, whole.byteLength);
    for (let c = 0; c < channels; c++) {
      const out = buffer.getChannelData(c);
      for (let i = 0; i < frames; i++) out[i] = view.getInt16((i * channels + c) * 2, true) / 32768;
    }
    const src = ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(gain);
    const now = ctx.currentTime;
    if (run.nextTime < now + 0.005) {
      if (run.firstStart !== null) stats.underruns += 1; // the next sentence came after the last ended
      run.nextTime = now + LEAD_S;
    }
    src.start(run.nextTime);
    // Where this piece sits in the clip, for the read-along (a gap before it is not in the clip).
    run.segments.push({ at: run.nextTime, clip: stats.scheduledSeconds, seconds: frames / rate });
    if (run.firstStart === null) {
      run.firstStart = run.nextTime;
      stats.firstPieceSamples = frames;
      stats.firstSoundMs = performance.now() - run.t0 + (run.nextTime - now) * 1000;
      stats.outputLatencyMs = ((ctx.baseLatency || 0) + (ctx.outputLatency || 0)) * 1000;
      setState("playing");
      say(
        `재생 중 — 첫 소리까지 ${Math.round(stats.firstSoundMs)} ms`,
        `Playing — first sound after ${Math.round(stats.firstSoundMs)} ms`,
      );
      requestAnimationFrame(() => follow(run));
    }
    run.nextTime += frames / rate;
    run.sources.push(src);
    src.addEventListener("ended", () => {
      const i = run.sources.indexOf(src);
      if (i >= 0) run.sources.splice(i, 1);
    });
    stats.chunks += 1;
    stats.samplesReceived += frames;
    stats.scheduledSeconds += frames / rate;
    publish();
  }

  function badStream(message) {
    return Object.assign(new Error(message), { info: { code: "bad_stream", message } });
  }

  function base64Bytes(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function onEvent(run, data) {
    // One server-sent event's JSON: a sentence's times, a piece of its audio, the end, or a failure.
    let event;
    try {
      event = JSON.parse(data);
    } catch (_) {
      throw badStream(`an event that is not JSON: ${data.slice(0, 80)}`);
    }
    if (event.type === "forv_tts.sentence") {
      addSentence(event.sentence || {});
    } else if (event.type === "speech.audio.delta") {
      if (stats.firstAudioMs === null) stats.firstAudioMs = performance.now() - run.t0;
      schedule(run, base64Bytes(event.audio || ""));
    } else if (event.type === "speech.audio.done") {
      run.streamDone = true;
    } else if (event.type === "error") {
      const e = event.error || {};
      throw Object.assign(new Error("failed mid-stream"), {
        info: { status: 200, code: e.code || "failed", message: e.message || "synthesis failed", field: null },
      });
    }
  }

  async function streamSpeech(run, body) {
    const response = await api("/v1/audio/speech", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal: run.abort.signal,
    });
    stats.firstByteMs = performance.now() - run.t0;
    if (!response.ok) {
      const e = new Error("speech refused");
      e.info = await errorOf(response);
      throw e;
    }
    if (!response.body) throw badStream("this browser cannot read a streamed answer");
    const rate = Number.parseInt(response.headers.get("X-Sample-Rate") || "", 10);
    if (!(rate > 0)) throw badStream("the answer did not say its sample rate (X-Sample-Rate)");
    run.header = { rate, channels: 1 };
    stats.sampleRate = rate;
    if (run.graph.ctx.sampleRate !== rate) {
      // The list did not say this voice's rate: rebuild the graph at it (the page already had a click).
      run.graph = audioGraph(rate);
      run.graph.ctx.resume();
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let data = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (run.finished) return;
      text += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // The text/event-stream framing: lines; `data:` lines make an event, a blank line ends it.
      let at;
      while ((at = text.search(/\r\n|\r|\n/)) >= 0) {
        const line = text.slice(0, at);
        text = text.slice(at + (text.startsWith("\r\n", at) ? 2 : 1));
        if (line === "") {
          if (data.length) onEvent(run, data.join("\n"));
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        }
      }
      if (done) break;
    }
    if (data.length) onEvent(run, data.join("\n"));
    if (!run.streamDone) throw badStream("the stream ended before its done event: the clip is incomplete");
    if (run.bytes === 0) throw badStream("the answer held no audio");
    watch(run);
  }

  function freshSeed() {
    const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
    return ((hi % (SEED_LIMIT / 2 ** 32)) * 2 ** 32 + lo) % SEED_LIMIT;
  }

  async function speak() {
    const text = els.text.value;
    if (current) stopRun(current, "stopped");
    clearError();
    resetClip(); // the last clip's player and downloads do not stand beside a new error
    say("", "");
    if (!text.trim()) {
      showError({ code: "invalid_request", message: "텍스트를 입력하세요 · Type some Korean text first", field: "text" });
      els.text.focus();
      return;
    }
    const option = els.voice.selectedOptions[0];
    const voice = els.voice.value || "builtin";
    const speed = Number.parseFloat(els.speed.value) || 1;
    const graph = audioGraph(option && option.dataset.rate ? Number(option.dataset.rate) : null);
    graph.ctx.resume(); // inside the click: browsers let sound start only after a user gesture

    Object.assign(stats, freshRun(), { runs: stats.runs + 1 });
    delete els.app.dataset.firstSoundMs;
    clearTranscript();
    els.clip.hidden = true;
    els.normalized.replaceChildren();
    els.normalizedEmpty.hidden = false;
    els.normalizedEmpty.textContent = "정리하는 중… · Normalising…";

    stats.seed = freshSeed();
    const request = { model: "forv-tts", input: text, voice, speed, seed: stats.seed };
    const run = {
      t0: performance.now(),
      abort: new AbortController(),
      normalizeAbort: new AbortController(),
      graph,
      voice,
      request,
      header: null,
      carry: null,
      parts: [],
      bytes: 0,
      sources: [],
      segments: [],
      nextTime: 0,
      firstStart: null,
      streamDone: false,
      finished: false,
      timer: null,
    };
    current = run;
    run.timer = setInterval(() => watch(run), 100);
    els.stop.disabled = false;
    setState("requesting");
    say("합성 중…", "Synthesising…");
    publish();

    showNormalized(text, run.normalizeAbort.signal, stats.runs);
    try {
      await streamSpeech(run, Object.assign({}, request, { stream_format: "sse", response_format: "pcm" }));
    } catch (err) {
      if (run.finished) return; // stopped by the user
      if (err && err.name === "AbortError") return;
      showError((err && err.info) || { code: "network", message: String(err) });
      stopRun(run, "error");
      say("실패했습니다", "Failed");
    }
  }

  // --- the finished clip's player ------------------------------------------------------------------

  function followPlayer() {
    // The player's own position (currentTime) marks the words, once a frame while it plays.
    if (current) return; // a stream is playing: its clock marks the words
    if (els.player.ended || !els.player.src || (els.player.paused && els.player.currentTime === 0)) {
      mark(null, null); // over, or not started: nothing is being heard
      return;
    }
    mark(els.player.currentTime, "player");
    if (!els.player.paused) requestAnimationFrame(followPlayer);
  }

  function seekTo(seconds) {
    if (!clip || current || !els.player.src) return;
    els.player.currentTime = seconds;
    const played = els.player.play();
    if (played && typeof played.catch === "function") played.catch(() => followPlayer());
    followPlayer();
  }

  // --- wiring ------------------------------------------------------------------------------------

  els.form.addEventListener("submit", (event) => {
    event.preventDefault();
    speak();
  });
  els.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      els.form.requestSubmit();
    }
  });
  els.stop.addEventListener("click", () => {
    if (current) {
      stopRun(current, "stopped");
      say("멈춤", "Stopped");
      els.speak.focus();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && current && !els.keyDialog.open) {
      stopRun(current, "stopped");
      say("멈춤", "Stopped");
    }
  });
  for (const name of ["play", "playing", "seeked", "timeupdate", "pause", "ended"]) {
    els.player.addEventListener(name, followPlayer);
  }
  els.transcript.addEventListener("click", (event) => {
    // A word plays from where it starts; a sentence's ▶ button from the sentence's start.
    const target = event.target.closest(".seek, .word");
    if (target && els.transcript.contains(target)) seekTo(Number(target.dataset.start));
  });
  for (const link of [els.downloadMp3, els.downloadOpus]) {
    link.addEventListener("click", (event) => {
      if (link.href.startsWith("blob:")) return; // already made: the browser saves it
      event.preventDefault();
      downloadAs(link);
    });
  }
  const showSpeed = () => {
    const label = `${Number.parseFloat(els.speed.value).toFixed(1)}×`;
    els.speedValue.textContent = label;
    els.speed.setAttribute("aria-valuetext", label);
  };
  els.speed.addEventListener("input", showSpeed);
  showSpeed();

  loadVoices();
})();
