//! The workspace's own request and response: what a handler reads (method, path, query,
//! cookies, form fields) and writes, kept apart from the HTTP server so every page is a plain
//! synchronous function over a database connection.

/// A request as handlers see it.
#[derive(Debug, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub cookies: Vec<(String, String)>,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Fields of an `application/x-www-form-urlencoded` or `multipart/form-data` body (file
    /// parts are in `files`).
    pub form: Vec<(String, String)>,
    pub files: Vec<(String, Vec<u8>)>,
}

impl Req {
    pub fn new(
        method: &str,
        path: &str,
        query: &str,
        cookie_header: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Req {
        let mut r = Req {
            method: method.to_string(),
            path: path.to_string(),
            query: parse_urlencoded(query),
            cookies: parse_cookies(cookie_header),
            content_type: content_type.to_string(),
            ..Default::default()
        };
        if content_type.starts_with("application/x-www-form-urlencoded") {
            r.form = parse_urlencoded(&String::from_utf8_lossy(&body));
        } else if let Some(b) = content_type.split("boundary=").nth(1) {
            let boundary = b.split(';').next().unwrap_or("").trim_matches('"');
            for (name, is_file, data) in parse_multipart(&body, boundary) {
                if is_file {
                    r.files.push((name, data));
                } else {
                    r.form
                        .push((name, String::from_utf8_lossy(&data).into_owned()));
                }
            }
        }
        r.body = body;
        r
    }
    pub fn q(&self, key: &str) -> &str {
        first(&self.query, key)
    }
    pub fn f(&self, key: &str) -> &str {
        first(&self.form, key)
    }
    /// Every value of a repeated form field (checkboxes).
    pub fn f_all(&self, key: &str) -> Vec<&str> {
        self.form
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn cookie(&self, key: &str) -> &str {
        first(&self.cookies, key)
    }
}

fn first<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// A response: status, extra headers, body.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn html(status: u16, body: String) -> Resp {
        Resp {
            status,
            headers: vec![("content-type", "text/html; charset=utf-8".into())],
            body: body.into_bytes(),
        }
    }
    pub fn text(status: u16, body: &str) -> Resp {
        Resp {
            status,
            headers: vec![("content-type", "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }
    /// 303: after a POST the browser GETs the page (a reload does not repeat the action).
    pub fn redirect(to: &str) -> Resp {
        Resp {
            status: 303,
            headers: vec![("location", to.to_string())],
            body: Vec::new(),
        }
    }
    pub fn with_cookie(mut self, cookie: String) -> Resp {
        self.headers.push(("set-cookie", cookie));
        self
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decoding with `+` as space (form encoding); invalid escapes stay as they are.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encoding of a query value (everything but unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn parse_cookies(h: &str) -> Vec<(String, String)> {
    h.split(';')
        .filter_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// `(field name, is a file, content)` of each part of a multipart body.
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, bool, Vec<u8>)> {
    let mut out = Vec::new();
    if boundary.is_empty() {
        return out;
    }
    let delim = format!("--{boundary}");
    let mut pos = match find(body, delim.as_bytes(), 0) {
        Some(p) => p + delim.len(),
        None => return out,
    };
    loop {
        if body[pos..].starts_with(b"--") {
            break;
        }
        let Some(head_end) = find(body, b"\r\n\r\n", pos) else {
            break;
        };
        let head = String::from_utf8_lossy(&body[pos..head_end]).to_string();
        let data_start = head_end + 4;
        let Some(next) = find(body, format!("\r\n{delim}").as_bytes(), data_start) else {
            break;
        };
        let disp = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or("");
        let attr = |key: &str| {
            disp.split(';')
                .filter_map(|p| p.trim().strip_prefix(&format!("{key}=")))
                .next()
                .map(|v| v.trim_matches('"').to_string())
        };
        if let Some(name) = attr("name") {
            out.push((
                name,
                attr("filename").is_some(),
                body[data_start..next].to_vec(),
            ));
        }
        pos = next + 2 + delim.len();
        if pos >= body.len() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_multipart_parse() {
        assert_eq!(decode("a+b%3D%E4%B8%AD%zz"), "a b=中%zz");
        let f = parse_urlencoded("ids=1&ids=2&note=%3Cscript%3E");
        assert_eq!(f.len(), 3);
        assert_eq!(f[2].1, "<script>");
        let body = b"--XY\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\r\n--XY--\r\n";
        let r = Req::new(
            "POST",
            "/import",
            "",
            "",
            "multipart/form-data; boundary=XY",
            body.to_vec(),
        );
        assert_eq!(r.f("csrf"), "abc");
        assert_eq!(r.files, vec![("file".to_string(), vec![0u8, 1])]);
    }
}
