//! The embedded engine alone, as the `espeak-ng` program runs: the vendored
//! eSpeak NG port renders a text file in one call at its native 22 050 Hz
//! (no normalisation, resampling, cache, mastering or encoding) to a WAV
//! file, so its sound and its CPU time can be set against the program's
//! (`espeak-ng -v en -w OUT.wav -f TEXT_FILE`). `scripts/bench-voice` uses it
//! for the engine-against-program CPU ratio; it also serves to compare the
//! two outputs by ear or by measurement when changing the vendored crate.
//!
//! Run: `cargo run --release --example voice_compare -- OUT.wav TEXT_FILE [DATA_DIR]`
//! (DATA_DIR: where the engine's data is installed, once; a temporary folder
//! without it.)

use std::path::Path;

use espeak_ng::EspeakNg;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, text_file, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: voice_compare OUT.wav TEXT_FILE [DATA_DIR]");
    };
    let text = std::fs::read_to_string(text_file)?;
    let temp = tempfile::tempdir()?;
    let data = match rest.first() {
        Some(dir) => Path::new(dir).to_path_buf(),
        None => temp.path().join("data"),
    };
    if !data.join("phontab").is_file() {
        espeak_ng::install_bundled_languages(&data, &["en"])?;
    }
    let engine = EspeakNg::builder().voice("en").data_dir(&data).build()?;
    let (pcm, rate) = engine.synth(&text)?;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(out, spec)?;
    let mut writer = wav.get_i16_writer(u32::try_from(pcm.len())?);
    for sample in pcm {
        writer.write_sample(sample);
    }
    writer.flush()?;
    wav.finalize()?;
    Ok(())
}
