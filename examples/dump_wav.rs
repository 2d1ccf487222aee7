use audiobook::job::Voice;
use audiobook::provider::local::LocalEngine;
use audiobook::provider::{SynthRequest, Synthesizer};
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1])?;
    let out = &args[2];
    let rate: u32 = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(22050);
    let dir = std::path::Path::new("/tmp/e12/cache");
    let engine = LocalEngine::new(dir, &Voice::local("en", 1.0, 50), rate)?;
    let clip = engine.synthesize(&SynthRequest { text }).await?;
    let spec = hound::WavSpec { channels: 1, sample_rate: clip.sample_rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(out, spec)?;
    for s in &clip.samples { w.write_sample(*s)?; }
    w.finalize()?;
    Ok(())
}
