//! What the two cloud tables (`[voice.coze]`, `[voice.volcengine]`) share:
//! base URLs and WebSocket URLs (with the derivation of one from the
//! other), the environment variable that holds the token (never the token
//! itself), and the request timeout.

use std::ops::RangeInclusive;
use std::time::Duration;

use toml::Spanned;

use super::Check;

const TIMEOUT_SECS: RangeInclusive<i64> = 1..=600;
const DEFAULT_TIMEOUT_SECS: u64 = 60;

impl Check<'_> {
    pub(super) fn timeout(&mut self, raw: Option<Spanned<i64>>, table: &str) -> Duration {
        let secs = self.int(
            raw,
            table,
            "timeout_secs",
            TIMEOUT_SECS,
            DEFAULT_TIMEOUT_SECS,
        );
        Duration::from_secs(secs)
    }

    /// The name of an environment variable. The message never echoes the
    /// value: someone may have pasted the token itself here.
    pub(super) fn token_env(
        &mut self,
        raw: Option<Spanned<String>>,
        table: &str,
        default: &str,
    ) -> String {
        let Some(raw) = raw else {
            return default.to_owned();
        };
        if is_env_var_name(raw.get_ref()) {
            return raw.into_inner();
        }
        self.problems.at(
            raw.span(),
            format!(
                "token_env must name an environment variable (upper-case letters, digits and _, e.g. \
                 {default}), never hold the token itself; set [{table}] token_env = \"{default}\" \
                 and export the token in that variable"
            ),
        );
        default.to_owned()
    }

    pub(super) fn http_url(
        &mut self,
        raw: Option<Spanned<String>>,
        table: &str,
        default: &str,
    ) -> String {
        let Some(raw) = raw else {
            return default.to_owned();
        };
        match base_url(raw.get_ref(), &["http://", "https://"], None) {
            Some(url) => url,
            None => {
                self.problems.at(
                    raw.span(),
                    format!(
                        "base_url must be an http:// or https:// URL with a host, got {:?}; set \
                         [{table}] base_url = \"{default}\"",
                        raw.get_ref()
                    ),
                );
                default.to_owned()
            }
        }
    }

    /// An explicit WebSocket base. The API path is tolerated at its end, so
    /// pasting the full endpoint works too.
    pub(super) fn ws_url(&mut self, raw: Spanned<String>, table: &str, path: &str) -> String {
        match base_url(raw.get_ref(), &["ws://", "wss://"], Some(path)) {
            Some(url) => url,
            None => {
                self.problems.at(
                    raw.span(),
                    format!(
                        "ws_url must be a ws:// or wss:// URL with a host, got {:?}; fix [{table}] \
                         ws_url or remove it to derive it from base_url",
                        raw.get_ref()
                    ),
                );
                String::new()
            }
        }
    }
}

/// `url` without trailing slashes (and without `strip_path` at its end),
/// when it has one of `schemes` and a non-empty host.
fn base_url(url: &str, schemes: &[&str], strip_path: Option<&str>) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let url = strip_path
        .and_then(|path| url.strip_suffix(path))
        .unwrap_or(url);
    let rest = schemes.iter().find_map(|s| url.strip_prefix(s))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let valid =
        !host.is_empty() && !rest.contains(['?', '#']) && !rest.contains(char::is_whitespace);
    valid.then(|| url.to_owned())
}

/// `https`→`wss`, `http`→`ws`, rest unchanged.
pub(super) fn swap_scheme(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        url.to_owned()
    }
}

/// Coze serves WebSockets from `ws.` hosts; only the official API hosts
/// are renamed, so a simulator on `127.0.0.1` keeps its host (as coze-go does).
pub(super) fn coze_ws_base(base_url: &str) -> String {
    let swapped = swap_scheme(base_url);
    for host in ["api.coze.cn", "api.coze.com"] {
        for scheme in ["wss://", "ws://"] {
            let official = format!("{scheme}{host}");
            let renamed = format!("{scheme}ws.{}", &host["api.".len()..]);
            if swapped == official {
                return renamed;
            }
            if let Some(rest) = swapped.strip_prefix(&format!("{official}/")) {
                return format!("{renamed}/{rest}");
            }
            if let Some(rest) = swapped.strip_prefix(&format!("{official}:")) {
                return format!("{renamed}:{rest}");
            }
        }
    }
    swapped
}

/// Upper-case letters, digits and `_`, not starting with a digit: the
/// convention for environment variables, and never the shape of a token
/// (Coze `pat_…`, Volcengine access tokens are mixed-case).
fn is_env_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    first_ok && rest_ok && name.len() <= 64
}
