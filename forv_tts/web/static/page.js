// forv-tts page: type Korean text, pick a voice, hear it as it streams.
//
// Speak posts to /v1/audio/speech with stream: true. The answer is one WAV header whose sizes are
// unknown (0xFFFFFFFF) and then 16-bit PCM, sentence by sentence. An <audio> element cannot play an
// unbounded WAV progressively in every browser, so the page reads the body with fetch() + ReadableStream
// and schedules each piece of PCM back to back on a Web Audio clock: the first sound comes as soon as the
// first sentence arrives. At the end the same samples become the download link's WAV (no second request).
//
// window.forvTtsPage holds what happened (state, timings, samples scheduled and played, the loudest
// sample the graph rendered); the browser test and bench/page_first_sound.py read it.
"use strict";

(() => {
  const KEY_STORAGE = "forv-tts.api-key";
  // How far ahead the first piece (or one after a gap) is scheduled: more than one render quantum
  // (128 frames) plus main-thread jitter, so the next piece joins it exactly where it ends.
  const LEAD_S = 0.02;
  const HEADER_LIMIT = 64 * 1024; // a WAV header that long is not one

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
    download: $("download"),
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
    voice_not_found: ["목소리를 찾을 수 없습니다", "Unknown voice"],
    unavailable: ["서비스를 지금 쓸 수 없습니다", "The service is unavailable"],
    timeout: ["시간이 초과되었습니다", "Timed out"],
    network: ["서버에 연결할 수 없습니다", "Cannot reach the server"],
    bad_stream: ["오디오 스트림을 읽을 수 없습니다", "The audio stream could not be read"],
  };

  function showError(err) {
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
    els.download.hidden = true;
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

  // --- WAV stream -> Web Audio --------------------------------------------------------------------

  function ascii(bytes, at) {
    return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  }

  function parseWavHeader(bytes) {
    // The fmt chunk and where the PCM starts; null while more bytes are needed.
    if (bytes.length < 12) return null;
    if (ascii(bytes, 0) !== "RIFF" || ascii(bytes, 8) !== "WAVE") throw new Error("not a WAV stream");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let fmt = null;
    let at = 12;
    while (at + 8 <= bytes.length) {
      const id = ascii(bytes, at);
      const size = view.getUint32(at + 4, true);
      if (id === "data") {
        if (!fmt) throw new Error("WAV data before its fmt chunk");
        return Object.assign(fmt, { dataOffset: at + 8 });
      }
      if (at + 8 + size > bytes.length) return null;
      if (id === "fmt ") {
        fmt = {
          format: view.getUint16(at + 8, true),
          channels: view.getUint16(at + 10, true),
          rate: view.getUint32(at + 12, true),
          bits: view.getUint16(at + 22, true),
        };
        if (fmt.format !== 1 || fmt.bits !== 16 || fmt.channels < 1) {
          throw new Error(`unsupported WAV: format ${fmt.format}, ${fmt.bits}-bit, ${fmt.channels} channel(s)`);
        }
      }
      at += 8 + size + (size & 1);
    }
    return null;
  }

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
    }
    publish();
    if (run.streamDone && ctx.currentTime >= run.nextTime) finish(run);
  }

  function finish(run) {
    stats.totalMs = performance.now() - run.t0;
    const seconds = stats.scheduledSeconds;
    if (run.bytes > 0) {
      const blob = wavBlob(run.header.rate, run.header.channels, run.parts, run.bytes);
      if (els.download.href.startsWith("blob:")) URL.revokeObjectURL(els.download.href);
      els.download.href = URL.createObjectURL(blob);
      const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
      els.download.download = `forv-tts-${run.voice}-${stamp}.wav`;
      els.download.hidden = false;
    }
    stopRun(run, "done");
    say(
      `끝 — ${seconds.toFixed(1)}초, 첫 소리까지 ${Math.round(stats.firstSoundMs)} ms`,
      `Done — ${seconds.toFixed(1)} s of audio, first sound after ${Math.round(stats.firstSoundMs)} ms`,
    );
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

  async function streamSpeech(run, body) {
    const response = await api("/v1/audio/speech", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "audio/wav" },
      body: JSON.stringify(body),
      signal: run.abort.signal,
    });
    stats.firstByteMs = performance.now() - run.t0;
    if (!response.ok) {
      const e = new Error("speech refused");
      e.info = await errorOf(response);
      throw e;
    }
    if (!response.body) throw Object.assign(new Error("no stream"), { info: { code: "bad_stream", message: "this browser cannot read a streamed answer" } });
    const reader = response.body.getReader();
    let head = new Uint8Array(0);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (run.finished) return;
      if (!run.header) {
        const joined = new Uint8Array(head.length + value.length);
        joined.set(head);
        joined.set(value, head.length);
        head = joined;
        let header;
        try {
          header = parseWavHeader(head);
        } catch (err) {
          throw Object.assign(err, { info: { code: "bad_stream", message: err.message } });
        }
        if (!header) {
          if (head.length > HEADER_LIMIT) {
            throw Object.assign(new Error("no WAV data"), { info: { code: "bad_stream", message: "no audio data in the first 64 KiB" } });
          }
          continue;
        }
        run.header = header;
        stats.sampleRate = header.rate;
        if (run.graph.ctx.sampleRate !== header.rate && stats.chunks === 0) {
          // The list did not say this voice's rate: rebuild the graph at it (the page already had a click).
          run.graph = audioGraph(header.rate);
          run.graph.ctx.resume();
        }
        stats.firstAudioMs = performance.now() - run.t0;
        schedule(run, head.subarray(header.dataOffset));
        head = null;
      } else {
        schedule(run, value);
      }
    }
    if (!run.header) {
      throw Object.assign(new Error("empty"), { info: { code: "bad_stream", message: "the answer held no audio" } });
    }
    run.streamDone = true;
    watch(run);
  }

  async function speak() {
    const text = els.text.value;
    if (current) stopRun(current, "stopped");
    clearError();
    els.download.hidden = true; // the last clip's download and "Done" do not stand beside a new error
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
    els.download.hidden = true;
    els.normalized.replaceChildren();
    els.normalizedEmpty.hidden = false;
    els.normalizedEmpty.textContent = "정리하는 중… · Normalising…";

    const run = {
      t0: performance.now(),
      abort: new AbortController(),
      normalizeAbort: new AbortController(),
      graph,
      voice,
      header: null,
      carry: null,
      parts: [],
      bytes: 0,
      sources: [],
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
      await streamSpeech(run, { model: "forv-tts", input: text, voice, speed, stream: true, response_format: "wav" });
    } catch (err) {
      if (run.finished) return; // stopped by the user
      if (err && err.name === "AbortError") return;
      showError((err && err.info) || { code: "network", message: String(err) });
      stopRun(run, "error");
      say("실패했습니다", "Failed");
    }
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
  const showSpeed = () => {
    const label = `${Number.parseFloat(els.speed.value).toFixed(1)}×`;
    els.speedValue.textContent = label;
    els.speed.setAttribute("aria-valuetext", label);
  };
  els.speed.addEventListener("input", showSpeed);
  showSpeed();

  loadVoices();
})();
