//! The fetch path with a runner of its own: what it applies once, for any runner.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{HeaderMap, Method};
use http_body_util::BodyExt as _;
use tokio::time::Instant;

use super::*;
use crate::response::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};
use crate::scrape::trace::Trace;

/// A runner that answers bare `output` after `delay`, counting the failures it is told of.
#[derive(Debug)]
struct Fake {
    output: &'static [u8],
    delay: Duration,
    failures: AtomicUsize,
}

impl Runner for Fake {
    async fn run<'r>(
        &'r self,
        _req: &'r ScrapeRequest<'_>,
        _module: ModuleRef<'r>,
    ) -> Result<Answer<'r>, ScrapeError> {
        tokio::time::sleep(self.delay).await;
        Ok(Answer::Bare { output: self.output.to_vec(), added: None })
    }

    fn method(&self) -> &'static str {
        "fake"
    }

    fn describe(&self, _req: &ScrapeRequest<'_>) -> String {
        "the fake".into()
    }

    fn count_failure(&self, _failure: &ScrapeError, _metrics: &ModuleMetrics) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }
}

fn fetcher(output: &'static [u8], delay: Duration) -> Fetcher<Fake> {
    Fetcher {
        name: "m".into(),
        runner: Fake { output, delay, failures: AtomicUsize::new(0) },
        metrics: Arc::default(),
        verification: Verification { max_body: 1 << 20 },
    }
}

fn request<'a>(
    headers: &'a HeaderMap,
    timeout: Option<Duration>,
    trace: Option<&'a Trace>,
) -> ScrapeRequest<'a> {
    ScrapeRequest {
        method: &Method::GET,
        params: &[],
        headers,
        host: None,
        client_ip: [127, 0, 0, 1].into(),
        forward_authorization: true,
        timeout,
        deadline: timeout.map(|t| Instant::now() + t),
        trace,
    }
}

#[tokio::test]
async fn a_runner_past_the_deadline_times_out_and_is_counted_once() {
    let f = fetcher(b"a 1\n", Duration::from_secs(5));
    let headers = HeaderMap::new();
    let started = std::time::Instant::now();
    let result = f.fetch(&request(&headers, Some(Duration::from_millis(50)), None), false).await;
    assert!(matches!(result, Err(ScrapeError::Timeout(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "answered at the deadline");
    assert_eq!(f.runner.failures.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn bare_output_is_verified_and_served_in_the_format_it_is_written_in() {
    let headers = HeaderMap::new();
    let text = fetcher(b"a 1\n", Duration::ZERO).fetch_whole(&request(&headers, None, None)).await;
    assert_eq!(text.expect("verifies").headers[header::CONTENT_TYPE], TEXT_CONTENT_TYPE);
    let om = fetcher(b"a 1\n# EOF\n", Duration::ZERO).fetch_whole(&request(&headers, None, None)).await;
    let om = om.expect("verifies");
    assert_eq!(om.headers[header::CONTENT_TYPE], OPENMETRICS_CONTENT_TYPE);
    let body = om.into_response().into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"a 1\n# EOF\n");

    let bad = fetcher(b"a one\n", Duration::ZERO);
    let result = bad.fetch(&request(&headers, None, None), false).await;
    assert!(result.as_ref().is_err_and(ScrapeError::is_malformed), "{result:?}");
    assert_eq!(bad.runner.failures.load(Ordering::Relaxed), 1, "the method hears of the failure");
}

#[tokio::test]
async fn a_debug_trace_records_what_was_reached_and_the_body() {
    let headers = HeaderMap::new();
    let trace = Trace::default();
    let f = fetcher(b"a 1\n", Duration::ZERO);
    f.fetch_whole(&request(&headers, None, Some(&trace))).await.expect("verifies");
    let seen = trace.seen();
    assert_eq!(seen.upstream.as_deref(), Some("the fake"));
    assert_eq!(seen.body_len, 4);
    assert!(seen.complete.is_some());
}

#[tokio::test]
async fn gzip_is_given_to_a_client_that_accepts_it() {
    let big: &'static [u8] = Box::leak("a 1\n".repeat(1000).into_bytes().into_boxed_slice());
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    let whole = fetcher(big, Duration::ZERO).fetch_whole(&request(&headers, None, None)).await.expect("ok");
    assert_eq!(whole.headers[header::CONTENT_ENCODING], "gzip");
    assert!(whole.len < big.len() as u64);
}
