"""The measuring half of scripts/bench-voice (run it through that script, which
sets up the virtual environment and the espeak-ng program).

Renders one English passage (Pride and Prejudice, chapter I, without its
illustration captions) with the `audiobook` binary's embedded engine and with
the `espeak-ng` program, then measures both WAV files the same way:
- word error rate of pocketsphinx (bundled en-US model) against the passage;
- pitch p10 / median / p90 over voiced 10 ms frames (normalised autocorrelation);
- CPU seconds (user + system of the child process) per second of audio, for
  the engine alone against the program (the `voice_compare` example: the
  vendored engine renders the passage in one call at 22 050 Hz, as the program
  does, into a WAV file), and for a whole `audiobook render` (mastering off,
  WAV out: it adds normalisation, the clip cache's FLAC encoding, SQLite and
  stitching, which the program does not do).
"""

import argparse
import functools
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from pocketsphinx import Decoder, Segmenter
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parent.parent
print = functools.partial(print, flush=True)  # progress shows as it happens


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--audiobook", required=True)
    ap.add_argument("--engine", required=True, help="the voice_compare example binary")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--corpus", default=str(ROOT.parent / "shared/corpus/pride-and-prejudice.txt")
    )
    ap.add_argument("--keep", help="keep the rendered WAV files in this folder")
    ap.add_argument("--paragraphs", type=int, help="only the first N paragraphs (quicker)")
    args = ap.parse_args()

    corpus = Path(args.corpus)
    if not corpus.is_file():
        sys.exit(f"no corpus at {corpus}; pass --corpus PATH to Pride and Prejudice")
    paragraphs = chapter_one(corpus.read_text(encoding="utf-8"))[: args.paragraphs]
    text = "\n\n".join(paragraphs) + "\n"
    reference = words(text)

    print(f"load at start: {uptime()}")
    print(f"passage: Pride and Prejudice, chapter I: {len(paragraphs)} paragraphs, "
          f"{len(reference)} words")
    print(f"program: {subprocess.run(['espeak-ng', '--version'], capture_output=True, text=True).stdout.strip()}")
    print(f"audiobook: {args.audiobook}; engine alone: {args.engine}")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep).resolve() if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        (work / "passage.txt").write_text(text, encoding="utf-8")
        # Install the engine's data once, unmeasured: a real render does it
        # once per cache folder, not once per book.
        render_ours(args, work, "warm")
        render_engine(args, work, "warm")
        renders = {"audiobook": render_ours, "engine": render_engine, "espeak-ng": render_program}
        runs = {who: [] for who in renders}
        wavs = {}
        for i in range(args.repeats):
            # Rotate the order so no side always runs on a warmer machine.
            order = list(renders)[i % 3:] + list(renders)[:i % 3]
            for who in order:
                wav, cpu = renders[who](args, work, i)
                secs = duration(wav)
                runs[who].append(cpu / secs)
                wavs[who] = wav
        print(f"load at end: {uptime()}")

        result = {}
        for who in ["audiobook", "espeak-ng"]:
            samples, rate = read_wav(wavs[who])
            hyp = recognise(samples, rate)
            f0 = pitch_track(samples, rate)
            result[who] = {
                "secs": len(samples) / rate,
                "wer": 100.0 * word_errors(reference, hyp) / len(reference),
                "pitch": np.percentile(f0, [10, 50, 90]) if len(f0) else [float("nan")] * 3,
                "cpu_min": min(runs[who]),
                "cpu_median": statistics.median(runs[who]),
            }
        result["engine"] = {
            "cpu_min": min(runs["engine"]),
            "cpu_median": statistics.median(runs["engine"]),
        }
    report(result, args.repeats)


def chapter_one(book):
    """The paragraphs of chapter I, without bracketed illustration blocks and
    underscores (italics)."""
    start = book.index("It is a truth universally acknowledged")
    end = book.index("CHAPTER II.")
    body = strip_brackets(book[start:end]).replace("_", "")
    paragraphs = []
    for block in re.split(r"\n\s*\n", body):
        line = " ".join(block.split())
        if line:
            paragraphs.append(line)
    return paragraphs


def strip_brackets(text):
    out, depth = [], 0
    for c in text:
        if c == "[":
            depth += 1
        elif c == "]" and depth:
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)


def words(text):
    """Lower-case words as the recogniser spells them."""
    text = text.lower().replace("’", "'").replace("mrs.", "missus").replace("mr.", "mister")
    text = re.sub(r"[^a-z' ]+", " ", text)
    return [w.strip("'") for w in text.split() if w.strip("'")]


def render_ours(args, work, i):
    folder = work / f"audiobook-{i}"
    folder.mkdir(exist_ok=True)
    warm = work / "audiobook-warm" / "cache" / "espeak-ng-data"
    if i != "warm" and not (folder / "cache").exists():
        (folder / "cache").mkdir()
        (folder / "cache" / "espeak-ng-data").symlink_to(warm)
    (folder / "job.toml").write_text(f"""
[book]
title = "bench-voice"
language = "en"

[manuscript]
files = ["{work / 'passage.txt'}"]
chapters = "files"

[voice]
provider = "local"
voice = "en"

[audio]
sample_rate = 22050
sentence_gap_ms = 0
paragraph_gap_ms = 0
chapter_head_ms = 0
chapter_trailing_ms = 0

[render]
concurrency = 1

[master]
profile = "none"

[output]
dir = "out"
formats = ["wav"]
""", encoding="utf-8")
    # A fresh database and clip cache every time, so every segment is synthesized.
    cpu = run_child(
        [args.audiobook, "--quiet", "render", "--db", str(folder / "state.db"), "--cache",
         str(folder / "cache"), str(folder / "job.toml")],
    )
    # One chapter (the passage file), delivered as "01 - passage.wav".
    wavs = sorted((folder / "out").glob("*.wav"))
    if len(wavs) != 1:
        sys.exit(f"expected one WAV file in {folder / 'out'}, found {[w.name for w in wavs]}")
    return wavs[0], cpu


def render_engine(args, work, i):
    """The engine alone (the voice_compare example), its data installed once
    (as the program's is) by the unmeasured warm-up run."""
    wav = work / f"engine-{i}.wav"
    cpu = run_child([args.engine, str(wav), str(work / "passage.txt"), str(work / "engine-data")])
    return wav, cpu


def render_program(args, work, i):
    wav = work / f"espeak-ng-{i}.wav"
    cpu = run_child(["espeak-ng", "-v", "en", "-w", str(wav), "-f", str(work / "passage.txt")])
    return wav, cpu


def run_child(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{argv[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def read_wav(path):
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            sys.exit(f"{path}: expected mono 16-bit PCM")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.astype(np.float64) / 32768.0, w.getframerate()


def duration(path):
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def recognise(samples, rate):
    """pocketsphinx words for the whole file, speech region by speech region."""
    pcm16k = resample_poly(samples, 16000, rate) if rate != 16000 else samples
    raw = (np.clip(pcm16k, -1, 1) * 32767).astype("<i2").tobytes()
    decoder = Decoder(loglevel="FATAL")
    segmenter = Segmenter(sample_rate=16000)
    hyp = []

    class Stream:
        def __init__(self, data):
            self.data, self.pos = data, 0

        def read(self, n):
            chunk = self.data[self.pos:self.pos + n]
            self.pos += n
            return chunk

    for speech in segmenter.segment(Stream(raw)):
        decoder.start_utt()
        decoder.process_raw(speech.pcm, full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is not None:
            hyp.extend(words(decoder.hyp().hypstr))
    return hyp


def word_errors(ref, hyp):
    """Levenshtein distance over words (substitutions, insertions, deletions)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def pitch_track(samples, rate, fmin=60.0, fmax=400.0):
    """F0 of voiced 10 ms frames: the peak of the normalised autocorrelation of
    a 40 ms Hann-windowed frame, divided by the window's own autocorrelation
    (Boersma 1993); a frame is voiced when it is loud enough and that peak is
    above 0.5."""
    x = resample_poly(samples, 1, 2)  # 11 025 Hz is plenty for 60–400 Hz
    sr = rate / 2
    n = int(0.04 * sr)
    hop = int(0.01 * sr)
    if len(x) < n:
        return np.array([])
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[::hop]
    frames = frames - frames.mean(axis=1, keepdims=True)
    rms = np.sqrt((frames ** 2).mean(axis=1))
    loud = rms > 0.1 * np.percentile(rms, 95)
    win = np.hanning(n)
    spec = np.fft.rfft(frames * win, 2 * n, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :n]
    wac = np.fft.irfft(np.abs(np.fft.rfft(win, 2 * n)) ** 2)[:n]
    ac = ac / np.maximum(ac[:, :1], 1e-12) / (wac / wac[0])
    lo, hi = int(sr / fmax), int(sr / fmin)
    band = ac[:, lo:hi]
    best = band.argmax(axis=1)
    peak = band[np.arange(len(band)), best]
    voiced = loud & (peak > 0.5)
    return sr / (lo + best[voiced])


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def report(r, repeats):
    a, e, p = r["audiobook"], r["engine"], r["espeak-ng"]
    rows = [
        ("audio (s)", f"{a['secs']:.1f}", f"{p['secs']:.1f}"),
        ("word error rate (%)", f"{a['wer']:.1f}", f"{p['wer']:.1f}"),
        ("pitch p10 (Hz)", f"{a['pitch'][0]:.0f}", f"{p['pitch'][0]:.0f}"),
        ("pitch median (Hz)", f"{a['pitch'][1]:.0f}", f"{p['pitch'][1]:.0f}"),
        ("pitch p90 (Hz)", f"{a['pitch'][2]:.0f}", f"{p['pitch'][2]:.0f}"),
        (f"CPU s per audio s, engine, min of {repeats}", f"{e['cpu_min']:.4f}", f"{p['cpu_min']:.4f}"),
        (f"CPU s per audio s, engine, median of {repeats}", f"{e['cpu_median']:.4f}", f"{p['cpu_median']:.4f}"),
        (f"CPU s per audio s, whole render, min of {repeats}", f"{a['cpu_min']:.4f}", ""),
        (f"CPU s per audio s, whole render, median of {repeats}", f"{a['cpu_median']:.4f}", ""),
    ]
    print()
    print(f"{'':38} {'audiobook':>10} {'espeak-ng':>10}")
    for name, ours, theirs in rows:
        print(f"{name:38} {ours:>10} {theirs:>10}")
    print()
    wer_gap = a["wer"] - p["wer"]
    lo, hi = 0.8 * p["pitch"][0], 1.2 * p["pitch"][2]
    ratio_min = e["cpu_min"] / p["cpu_min"]
    ratio_median = e["cpu_median"] / p["cpu_median"]
    checks = [
        (f"word error rate {wer_gap:+.1f} points against the program (target at most +3)",
         wer_gap <= 3.0),
        (f"pitch p10-p90 {a['pitch'][0]:.0f}-{a['pitch'][2]:.0f} Hz within the program's "
         f"{p['pitch'][0]:.0f}-{p['pitch'][2]:.0f} Hz ±20 % ({lo:.0f}-{hi:.0f} Hz)",
         a["pitch"][0] >= lo and a["pitch"][2] <= hi),
        (f"engine CPU per audio second {ratio_median:.2f}x the program's (median; min "
         f"{ratio_min:.2f}x; target at most 1.5x)", ratio_median <= 1.5),
    ]
    for text, ok in checks:
        print(f"{'met    ' if ok else 'NOT MET'} {text}")
    print(f"(a whole render, mastering off, WAV out: {a['cpu_median'] / p['cpu_median']:.2f}x "
          f"the program's CPU per audio second, median)")


if __name__ == "__main__":
    main()
