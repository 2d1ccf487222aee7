//! The file-system half of validation: manuscript entries resolved (globs
//! expanded) and opened, the output dir checked for being creatable and
//! writable (and `[output]` checked with it). Nothing here leaves anything behind: the writability probe
//! creates a uniquely named file and removes it at once.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use toml::Spanned;

use super::raw::RawOutput;
use super::{Check, Delivery, Output};

/// Resolves paths inside a job file against its folder, and shows them to the
/// user relative to the job file path as they gave it.
pub(super) struct Base<'a> {
    /// The job file's folder, canonical.
    pub dir: &'a Path,
    /// The same folder as the user spelled it (the parent of the path given).
    pub shown: &'a Path,
}

impl<'a> Base<'a> {
    /// The folder of the job file `path` (as given), `dir` being its
    /// canonical form.
    pub fn of(path: &'a Path, dir: &'a Path) -> Base<'a> {
        Base {
            dir,
            shown: path.parent().unwrap_or(Path::new("")),
        }
    }

    /// `entry` made absolute (`.` components dropped; `..` kept, since
    /// removing it lexically is wrong across symlinks).
    pub fn resolve(&self, entry: &str) -> PathBuf {
        normalize(&self.dir.join(entry))
    }

    /// An absolute path as the user would recognise it.
    pub fn show(&self, path: &Path) -> String {
        let shown = match path.strip_prefix(self.dir) {
            // `join("")` would add a trailing slash.
            Ok(rest) if rest.as_os_str().is_empty() => self.shown.to_path_buf(),
            Ok(rest) => self.shown.join(rest),
            Err(_) => path.to_path_buf(),
        };
        if shown.as_os_str().is_empty() {
            ".".to_owned()
        } else {
            shown.display().to_string()
        }
    }

    /// The files one `[manuscript] files` entry names: the path itself when
    /// it exists or has no glob characters, otherwise the glob's matches,
    /// sorted. Errors are the message without position.
    pub fn expand(&self, entry: &str) -> Result<Vec<PathBuf>, String> {
        if entry.trim().is_empty() {
            return Err(
                "empty manuscript file name; remove it or name a file in [manuscript] files"
                    .to_owned(),
            );
        }
        let path = self.resolve(entry);
        // A literal name wins, so "book [draft].md" still works as a file name.
        if !has_glob_chars(entry) || fs::symlink_metadata(&path).is_ok() {
            return Ok(vec![path]);
        }
        self.glob(entry, &path)
    }

    fn glob(&self, entry: &str, path: &Path) -> Result<Vec<PathBuf>, String> {
        // Checked alone first so the error position counts within the entry.
        glob::Pattern::new(entry).map_err(|e| {
            format!(
                "invalid glob {entry:?} in [manuscript] files: {} at character {}; fix the pattern",
                e.msg,
                e.pos + 1
            )
        })?;
        let pattern = self.glob_pattern(entry, path)?;
        // Hidden files (editor backups, `.#lock` files) are never chapters.
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let paths = glob::glob_with(&pattern, options).map_err(|e| {
            format!(
                "invalid glob {entry:?} in [manuscript] files: {}; fix the pattern",
                e.msg
            )
        })?;
        let mut matches = Vec::new();
        for found in paths {
            let found = found.map_err(|e| {
                format!(
                    "cannot read {} while expanding {entry:?}: {}; check its permissions",
                    self.show(e.path()),
                    e.error()
                )
            })?;
            matches.push(found);
        }
        if matches.is_empty() {
            return Err(format!(
                "glob {entry:?} matches no files (looked in {}); check the pattern in [manuscript] files",
                self.show(self.dir)
            ));
        }
        matches.sort();
        Ok(matches)
    }

    /// The job folder is escaped so a `[` in its name is not a pattern.
    fn glob_pattern(&self, entry: &str, path: &Path) -> Result<String, String> {
        if Path::new(entry).is_absolute() {
            return Ok(entry.to_owned());
        }
        let dir = self.dir.to_str().ok_or_else(|| {
            format!(
                "cannot expand glob {entry:?}: the job file's folder {} is not valid UTF-8; \
                 list the files by name",
                path.display()
            )
        })?;
        let dir = glob::Pattern::escape(dir);
        Ok(format!("{}/{entry}", dir.trim_end_matches('/')))
    }

    /// A manuscript file must be a regular file that can be opened; its
    /// content is the manuscript module's business.
    pub fn check_manuscript(&self, path: &Path) -> Result<(), String> {
        let shown = self.show(path);
        let meta = fs::metadata(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => {
                format!("manuscript file not found: {shown}; check [manuscript] files")
            }
            _ => format!("cannot read manuscript file {shown}: {e}; check [manuscript] files"),
        })?;
        if meta.is_dir() {
            return Err(format!(
                "manuscript path {shown} is a folder, not a file; list its files or use a glob \
                 such as \"{}/*.md\" in [manuscript] files",
                shown.trim_end_matches('/')
            ));
        }
        if !meta.is_file() {
            return Err(format!(
                "manuscript path {shown} is not a regular file; check [manuscript] files"
            ));
        }
        File::open(path).map_err(|e| {
            format!("cannot open manuscript file {shown}: {e}; check its permissions")
        })?;
        Ok(())
    }

    /// The output dir, or the nearest existing ancestor it would be created
    /// in, must be a directory we can write to.
    pub fn check_output_dir(&self, dir: &Path) -> Result<(), String> {
        let shown = self.show(dir);
        let hint = "choose another [output] dir";
        let existing = match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => dir.to_path_buf(),
            Ok(_) => return Err(format!("output dir {shown} is not a directory; {hint}")),
            Err(e) if is_absent(&e) => {
                let (ancestor, is_dir) = nearest_existing(dir)
                    .map_err(|e| format!("cannot inspect output dir {shown}: {e}; {hint}"))?;
                if !is_dir {
                    return Err(format!(
                        "output dir {shown} cannot be created: {} is not a directory; {hint}",
                        self.show(&ancestor)
                    ));
                }
                ancestor
            }
            Err(e) => return Err(format!("cannot inspect output dir {shown}: {e}; {hint}")),
        };
        probe_writable(&existing).map_err(|e| {
            format!(
                "output dir {shown} is not writable: {e}; {hint} or fix its permissions{}",
                if existing == dir {
                    String::new()
                } else {
                    format!(" (it would be created in {})", self.show(&existing))
                }
            )
        })
    }
}

/// A path made comparable: canonical where it exists, else its nearest
/// existing ancestor's canonical form with the rest appended, so `out` and
/// `./jobs/../out` compare equal before either is created.
pub(super) fn canonical_or_lexical(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut at = path;
    loop {
        if let Ok(found) = fs::canonicalize(at) {
            return rest.iter().rev().fold(found, |p, part| p.join(part));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return normalize(path),
        }
    }
}

/// A `[manuscript] files` entry as written, with the pattern of the paths
/// it names (a literal name escaped, the job's folder escaped), so what a
/// render writes can be checked against it before the files exist.
#[derive(Debug, Clone)]
pub struct FilesEntry {
    pub written: String,
    pattern: glob::Pattern,
}

impl FilesEntry {
    pub(super) fn new(base: &Base<'_>, entry: &str) -> Option<FilesEntry> {
        let path = base.resolve(entry);
        let text = if has_glob_chars(entry) {
            base.glob_pattern(entry, &path).ok()?
        } else {
            glob::Pattern::escape(path.to_str()?)
        };
        Some(FilesEntry {
            written: entry.to_owned(),
            pattern: glob::Pattern::new(&text).ok()?,
        })
    }

    /// Matched as the expansion matches: `*` stays within a folder and
    /// never picks a hidden file.
    pub fn matches(&self, path: &Path) -> bool {
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        self.pattern.matches_path_with(path, options)
    }

    /// The first file a render writes into `dir` that this entry would read
    /// on the next run. Chapter and book files are named from titles not
    /// known yet (`NN - Title.mp3`, `Title.m4b`), so stand-ins with every
    /// extension the delivery writes are matched.
    pub fn reads_output_of(&self, dir: &Path) -> Option<PathBuf> {
        let named = FIXED_OUTPUT_FILES.iter().map(|name| dir.join(name));
        let delivered = OUTPUT_EXTENSIONS
            .iter()
            .flat_map(|ext| ["01 - Chapter", "Book"].map(|stem| dir.join(format!("{stem}.{ext}"))));
        named.chain(delivered).find(|p| self.matches(p))
    }
}

/// What a render writes into its output folder under fixed names.
const FIXED_OUTPUT_FILES: [&str; 5] = [
    "manifest.json",
    "report.json",
    "qa.json",
    "qa.csv",
    "proof.csv",
];

/// The extensions of the audio and subtitle files a delivery writes.
const OUTPUT_EXTENSIONS: [&str; 7] = ["wav", "mp3", "flac", "m4b", "srt", "vtt", "lrc"];

pub(super) fn has_glob_chars(entry: &str) -> bool {
    entry.contains(['*', '?', '['])
}

pub(super) fn normalize(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// "Does not exist" includes a path through a regular file (`book.txt/out`).
fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// The closest ancestor of `path` that exists, and whether it is a directory.
fn nearest_existing(path: &Path) -> io::Result<(PathBuf, bool)> {
    for ancestor in path.ancestors().skip(1) {
        match fs::metadata(ancestor) {
            Ok(meta) => return Ok((ancestor.to_path_buf(), meta.is_dir())),
            Err(e) if is_absent(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no existing ancestor",
    ))
}

/// Creating a file is the only honest writability test (permission bits lie
/// under root, ACLs, read-only mounts); the name is unique per process and
/// call so parallel loads never collide, and the file is removed at once.
fn probe_writable(dir: &Path) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        ".audiobook-write-probe-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let probe = dir.join(name);
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    fs::remove_file(&probe)
}

impl Check<'_> {
    pub(super) fn output(&mut self, raw: Option<Spanned<RawOutput>>) -> Output {
        let mut output = Output {
            dir: self.base.dir.to_path_buf(),
            delivery: Delivery::default(),
        };
        let Some(raw) = self.required_table(raw, "output", "dir") else {
            return output;
        };
        let (span, mut raw) = (raw.span(), raw.into_inner());
        output.delivery = self.delivery(&mut raw);
        let Some(dir) = raw.dir else {
            self.missing_key(span, "output", "dir");
            return output;
        };
        if dir.get_ref().trim().is_empty() {
            self.problems.at(
                dir.span(),
                "dir is empty; set [output] dir to the folder for the finished audio",
            );
            return output;
        }
        // `jobs/../out/x` as `out/x`: resolved through the file system where
        // it exists (right across symlinks), so reports show a clean path.
        output.dir = canonical_or_lexical(&self.base.resolve(dir.get_ref()));
        if let Err(message) = self.base.check_output_dir(&output.dir) {
            self.problems.at(dir.span(), message);
        }
        output
    }
}
