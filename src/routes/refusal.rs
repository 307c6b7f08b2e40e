//! The requests the routes refuse before any module answers, and the one table of what each
//! is answered with (status and short body, as the original or Go's `http.Error` words them).
//! With [`ScrapeError`](crate::scrape::ScrapeError)'s table (a module's failure) and
//! [`Denied`](crate::auth::Denied)'s (the checks), every failure's status is decided in a table;
//! the routes only pick the row.

use http::StatusCode;

/// Why the routes refuse a request.
#[derive(Debug)]
pub enum Refusal {
    /// A request with a body (chunked, or sized on a GET): none is accepted.
    RequestBody,
    /// The web configuration's `rate_limit` has no token left.
    RateLimited,
    /// No endpoint at the path.
    NotFound,
    /// The endpoint does not take the method.
    MethodNotAllowed,
    /// `POST /-/reload` without `-web.enable-lifecycle`.
    LifecycleOff,
    /// The reload was refused; the running configuration keeps serving.
    ReloadRefused(String),
    /// No `module` parameter and no `defaultModule`.
    NoModule,
    /// `-web.max-requests` scrapes are in flight.
    TooManyScrapes,
    /// The module named is not served.
    UnknownModule(String),
}

impl Refusal {
    /// The status the client gets.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::RequestBody | Refusal::NoModule => StatusCode::BAD_REQUEST,
            Refusal::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Refusal::NotFound | Refusal::UnknownModule(_) => StatusCode::NOT_FOUND,
            Refusal::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Refusal::LifecycleOff => StatusCode::FORBIDDEN,
            Refusal::ReloadRefused(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Refusal::TooManyScrapes => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The short body the client gets.
    pub fn body(&self) -> String {
        match self {
            Refusal::RequestBody => "Bad Request: request bodies are not accepted\n".into(),
            Refusal::RateLimited => "Too Many Requests\n".into(),
            Refusal::NotFound => "404 page not found\n".into(),
            Refusal::MethodNotAllowed => "Method Not Allowed\n".into(),
            Refusal::LifecycleOff => "Lifecycle API is not enabled.\n".into(),
            Refusal::ReloadRefused(why) => format!("failed to reload config: {why}\n"),
            Refusal::NoModule => "require parameter module is missing\n".into(),
            Refusal::TooManyScrapes => "Service Unavailable: too many scrapes in flight\n".into(),
            Refusal::UnknownModule(name) => format!("unknown module [{name}]\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_status() {
        let cases = [
            (Refusal::RequestBody, 400),
            (Refusal::RateLimited, 429),
            (Refusal::NotFound, 404),
            (Refusal::MethodNotAllowed, 405),
            (Refusal::LifecycleOff, 403),
            (Refusal::ReloadRefused("x".into()), 500),
            (Refusal::NoModule, 400),
            (Refusal::TooManyScrapes, 503),
            (Refusal::UnknownModule("m".into()), 404),
        ];
        for (refusal, status) in cases {
            assert_eq!(refusal.status().as_u16(), status, "{refusal:?}");
        }
        assert_eq!(Refusal::UnknownModule("m".into()).body(), "unknown module [m]\n");
    }
}
