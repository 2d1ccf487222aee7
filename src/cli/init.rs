//! `audiobook init [DIR]`: writes a commented job file for a manuscript,
//! required keys first, the chapter rule guessed from the manuscript and
//! shown with the chapters it finds. It never overwrites a file, and the
//! file it writes is checked by the same loader `render` uses before it is
//! put in place.

use std::path::{Path, PathBuf};

use super::args::{InitArgs, InitProvider};
use super::{CliError, Exit};
use crate::job::{self, Encoding};
use crate::manuscript::{self, Format};

/// A chapter rule guessed from the text, with the reason shown to the user.
struct Guess {
    /// `headings` or `regex`.
    rule: &'static str,
    pattern: Option<&'static str>,
    why: String,
}

const CHINESE_CHAPTER: &str = r"^\s*第[0-9０-９一二三四五六七八九十百千零〇两]+[章回节卷集部篇]";
const ENGLISH_CHAPTER: &str = r"^\s*(?i:chapter)\s+([0-9]+|[IVXLCDM]+|[A-Za-z]+)\b";

pub(super) fn run(args: &InitArgs) -> Result<Exit, CliError> {
    let dir = &args.dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::bad_input(format!("cannot create {}: {e}", dir.display())))?;
    let manuscript = match &args.manuscript {
        Some(path) if !path.is_file() => {
            return Err(CliError::bad_input(format!(
                "--manuscript {}: no such file; name an EPUB, DOCX, Markdown or text file",
                path.display()
            )));
        }
        Some(path) => Some(path.clone()),
        None => lone_manuscript(dir),
    };
    let stem = manuscript
        .as_deref()
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty() && !s.starts_with('.'))
        .unwrap_or_else(|| "book".to_string());
    let job_path = dir.join(format!("{stem}.toml"));
    if job_path.exists() || job_path.file_name() == Some(job::DEFAULTS_FILE.as_ref()) {
        return Err(CliError::bad_input(format!(
            "{} already exists; init never overwrites a file: edit it, remove it, or pass \
             another DIR",
            job_path.display()
        )));
    }
    let format = manuscript.as_deref().map(format_of).transpose()?;
    let (text, guess) = match format {
        Some(Format::Epub | Format::Docx) => (String::new(), document_chapters(format)),
        Some(_) => {
            let path = manuscript.as_deref().unwrap_or(Path::new(""));
            let text = manuscript::read_text(path, Encoding::Auto)
                .map_err(|e| CliError::bad_input(format!("--manuscript: {e}")))?;
            let guess = guess_chapters(&text);
            (text, guess)
        }
        None => (String::new(), guess_chapters("")),
    };
    // An EPUB's or a Word file's language is learned from its text once
    // the real loader has read it.
    let language = match format {
        Some(Format::Epub | Format::Docx) => None,
        _ => Some(language(&text)),
    };
    let files_entry = manuscript
        .as_deref()
        .map_or_else(|| "book.md".to_string(), |m| relative_to(m, dir));
    let contents = |language: &str| template(args.provider, &stem, &files_entry, &guess, language);
    write_new(&job_path, &contents, language, manuscript.is_some())?;
    println!("wrote {}", job_path.display());
    if manuscript.is_none() {
        println!(
            "no manuscript given or found in {}: put it at {} (or edit [manuscript] files), then \
             `audiobook render {}`",
            dir.display(),
            dir.join("book.md").display(),
            job_path.display()
        );
        return Ok(Exit::Ok);
    }
    show_chapters(&job_path, &guess)
}

/// The manuscript's format, from its bytes as a render decides it.
fn format_of(path: &Path) -> Result<Format, CliError> {
    let bad = |e: manuscript::ManuscriptError| CliError::bad_input(format!("--manuscript: {e}"));
    let bytes = manuscript::bytes::read_file(path).map_err(bad)?;
    manuscript::bytes::sniff(path, &bytes).map_err(bad)
}

/// EPUB and Word files carry their chapters: nothing to guess.
fn document_chapters(format: Option<Format>) -> Guess {
    let why = match format {
        Some(Format::Docx) => "DOCX: Heading 1 and Heading 2 paragraphs start chapters",
        _ => "EPUB: each document of its reading order starts a chapter, titled from its contents",
    };
    Guess {
        rule: "headings",
        pattern: None,
        why: why.to_string(),
    }
}

/// The one manuscript (`*.md`, `*.txt`, `*.epub`, `*.docx`) in the folder,
/// if there is exactly one.
fn lone_manuscript(dir: &Path) -> Option<PathBuf> {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| ["md", "txt", "epub", "docx"].iter().any(|x| e == *x))
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// How a path is written in a job file in `dir`: relative when below it,
/// else absolute.
fn relative_to(path: &Path, dir: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let base = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    abs.strip_prefix(&base)
        .map(Path::to_path_buf)
        .unwrap_or(abs)
        .display()
        .to_string()
}

/// Markdown headings if there are any; else chapter title lines in Chinese
/// (第一回, 第12章) or English (Chapter 1, CHAPTER XII); else the whole
/// manuscript is one chapter.
fn guess_chapters(text: &str) -> Guess {
    let count = |pattern: &str| {
        regex::Regex::new(&format!("(?m){pattern}")).map_or(0, |re| re.find_iter(text).count())
    };
    let headings = count(r"^#{1,6}\s+\S");
    if headings > 0 {
        return Guess {
            rule: "headings",
            pattern: None,
            why: format!("{headings} Markdown heading(s) found"),
        };
    }
    for (pattern, what) in [
        (CHINESE_CHAPTER, "Chinese chapter titles (第…回/章)"),
        (ENGLISH_CHAPTER, "\"Chapter …\" title lines"),
    ] {
        let n = count(pattern);
        if n >= 2 {
            return Guess {
                rule: "regex",
                pattern: Some(pattern),
                why: format!("{n} {what} found"),
            };
        }
    }
    Guess {
        rule: "headings",
        pattern: None,
        why: "no chapter titles found: the book is one chapter (set chapters and \
              chapter_pattern to split it)"
            .to_string(),
    }
}

/// `zh`, `en` or `mixed`, by the share of Chinese characters.
fn language(text: &str) -> &'static str {
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let han = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    match (letters, han) {
        (0, _) => "mixed",
        (_, 0) => "en",
        (l, h) if h * 10 >= l * 9 => "zh",
        _ => "mixed",
    }
}

fn template(
    provider: InitProvider,
    stem: &str,
    files: &str,
    guess: &Guess,
    language: &str,
) -> String {
    let title = toml_string(&stem.replace(['_', '-'], " "));
    let files = toml_string(files);
    let output = toml_string(&format!("out/{stem}"));
    // A comment ends at a line break: none may come from the file name.
    let stem: String = stem
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let pattern = match guess.pattern {
        Some(p) => format!("chapter_pattern = '{p}'   # a line matching it starts a chapter\n"),
        None => "# chapter_pattern = '^Chapter \\d+'   # with chapters = \"regex\"\n".to_string(),
    };
    let voice = match provider {
        InitProvider::Local => VOICE_LOCAL,
        InitProvider::Coze => VOICE_COZE,
        InitProvider::Volcengine => VOICE_VOLCENGINE,
    };
    format!(
        "# A job file for one book, written by `audiobook init`. Check it with\n\
         # `audiobook validate {stem}.toml`, see what it will do with `audiobook plan {stem}.toml`,\n\
         # render it with `audiobook render {stem}.toml`. Paths are relative to this file.\n\
         # Every key is described in the README (\"The job file\").\n\
         \n\
         # ---- required ---------------------------------------------------------\n\
         \n\
         [book]\n\
         title = {title}\n\
         # author = \"\"\n\
         language = \"{language}\"            # zh | en | mixed: which sentence rules apply\n\
         \n\
         [manuscript]\n\
         files = [{files}]   # a path or a list; globs allowed, e.g. \"chapters/*.md\"\n\
         chapters = \"{rule}\"       # headings (Markdown #) | files (one per file) | regex\n\
         {pattern}\
         # ({why})\n\
         # encoding = \"auto\"         # auto (UTF-8, else GBK) | utf-8 | gbk\n\
         \n\
         [output]\n\
         dir = {output}         # chapter-NNN.wav, book.wav, manifest.json, report.json\n\
         \n\
         # ---- optional ---------------------------------------------------------\n\
         \n\
         {voice}\
         [audio]\n\
         # sample_rate = 24000          # 8000 16000 22050 24000 32000 44100 48000\n\
         # sentence_gap_ms = 250        # silence between sentences\n\
         # paragraph_gap_ms = 700       # silence between paragraphs\n\
         # chapter_head_ms = 500        # silence at the start of each chapter file\n\
         # chapter_trailing_ms = 2000   # silence at the end of each chapter file\n\
         \n\
         [render]\n\
         # concurrency = 4              # most requests in flight (adapts below it)\n\
         # max_attempts = 4             # attempts per segment on transient errors\n\
         # max_characters_per_run = 500000\n\
         # price_per_million_characters = 30.0   # for the cost estimate of `plan`\n\
         \n\
         # [notify]\n\
         # command = \"mail -s \\\"audiobook: $AUDIOBOOK_OUTCOME\\\" me@example.com\"  # gets the outcome as JSON on stdin\n",
        rule = guess.rule,
        why = guess.why,
    )
}

/// `text` as a TOML string, whatever characters it holds (a Rust `{:?}`
/// string is not TOML: it writes `\u{..}` escapes).
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

const VOICE_LOCAL: &str = "\
[voice]
provider = \"local\"            # the embedded engine: free, offline, no account
voice = \"auto\"                # auto (by script) | en | en-us | en-gb | cmn
# speed = 1.0                  # 0.5..=2.0
# pitch = 50                   # 0..=100

";

const VOICE_COZE: &str = "\
[voice]
provider = \"coze\"
transport = \"http\"            # http | websocket
voice = \"7426720361733046281\" # a voice_id: `audiobook voices` lists your account's
# speed = 1.0                  # 0.5..=2.0

[voice.coze]
token_env = \"COZE_API_TOKEN\"  # export COZE_API_TOKEN=... (a token never goes in this file)
# base_url = \"https://api.coze.cn\"
# emotion = \"happy\"            # for multi-emotion voices

";

const VOICE_VOLCENGINE: &str = "\
[voice]
provider = \"volcengine\"
transport = \"http\"            # http | websocket
voice = \"BV001_streaming\"     # a voice_type from the console
# speed = 1.0                  # 0.2..=3.0

[voice.volcengine]
appid = \"1234567\"             # your application's appid (the console shows it)
token_env = \"VOLCENGINE_TOKEN\" # export VOLCENGINE_TOKEN=... (a token never goes in this file)
# cluster = \"volcano_tts\"

";

/// Writes the file only if nothing is there, after checking it with the
/// real loader: a temporary file is checked, then linked into place (a link
/// fails if the name was taken meanwhile, so nothing is ever overwritten).
/// Without a `language`, it is learned from the manuscript the loader read.
fn write_new(
    path: &Path,
    contents: &dyn Fn(&str) -> String,
    language: Option<&'static str>,
    check: bool,
) -> Result<(), CliError> {
    let temp = path.with_file_name(format!(
        ".{}.init-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let result = write_checked(&temp, contents, language, check).and_then(|()| {
        std::fs::hard_link(&temp, path).map_err(|e| {
            CliError::bad_input(format!(
                "cannot write {}: {e}; init never overwrites a file",
                path.display()
            ))
        })
    });
    let _ = std::fs::remove_file(&temp);
    result
}

fn write_checked(
    temp: &Path,
    contents: &dyn Fn(&str) -> String,
    language: Option<&'static str>,
    check: bool,
) -> Result<(), CliError> {
    let write = |text: String| {
        std::fs::write(temp, text)
            .map_err(|e| CliError::bad_input(format!("cannot write {}: {e}", temp.display())))
    };
    let load = || {
        job::load(temp).map_err(|e| {
            CliError::bad_input(format!("the job file init wrote does not validate: {e}"))
        })
    };
    write(contents(language.unwrap_or("mixed")))?;
    if !check {
        return Ok(());
    }
    let job = load()?;
    if language.is_none() {
        let book = manuscript::load(&job)
            .map_err(|e| CliError::bad_input(format!("--manuscript: {e}")))?;
        let text: String = book
            .chapters
            .iter()
            .flat_map(|c| &c.paragraphs)
            .map(|p| p.text.as_str())
            .collect();
        let found = self::language(&text);
        if found != "mixed" {
            write(contents(found))?;
            load()?;
        }
    }
    Ok(())
}

/// Loads the new job file as `render` would and lists the chapters found.
fn show_chapters(job_path: &Path, guess: &Guess) -> Result<Exit, CliError> {
    let job = job::load(job_path).map_err(|e| {
        CliError::bad_input(format!("the new job file does not validate yet:\n{e}"))
    })?;
    let book = manuscript::load(&job).map_err(|e| CliError::bad_input(e.to_string()))?;
    println!(
        "chapters = \"{}\"{}: {}; {} chapter(s):",
        guess.rule,
        guess
            .pattern
            .map(|p| format!(" with chapter_pattern = '{p}'"))
            .unwrap_or_default(),
        guess.why,
        book.chapters.len()
    );
    const SHOWN: usize = 12;
    for (i, chapter) in book.chapters.iter().take(SHOWN).enumerate() {
        println!("  {:>3}  {}", i + 1, crate::render::preview(&chapter.title));
    }
    if book.chapters.len() > SHOWN {
        println!("  … and {} more", book.chapters.len() - SHOWN);
    }
    println!(
        "next: `audiobook plan {0}` (a dry run), then `audiobook render {0}`",
        job_path.display()
    );
    Ok(Exit::Ok)
}
