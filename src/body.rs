//! The response body type: a buffered body (verified upstream bodies, script output, our own
//! pages, the pieces of one fetch that coalesced scrapes share), an upstream body streamed
//! through unread and cut off at the scrape deadline, or one still arriving that coalesced
//! pass-through scrapes share ([`tee`]).

pub mod tee;

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::upstream::pool::UpstreamBody;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tee::TeeReader;
use tokio::time::{Instant, Sleep};

/// Errors a streamed body can end with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A response body.
#[derive(Debug)]
pub enum Body {
    /// All of it, in memory.
    Full(Option<Bytes>),
    /// All of it, in memory, in the pieces it arrived in (served without joining them). Coalesced
    /// scrapes each get such a body over the same reference-counted pieces; each piece is
    /// dropped once sent, so a piece's memory (and its room in the memory budget, which an
    /// upstream body's pieces carry) goes back as soon as the slowest sharer has sent it, not
    /// when that sharer has sent the whole body.
    Frames {
        /// The pieces, first to send last.
        pieces: Vec<Bytes>,
        /// Bytes left to send.
        remaining: u64,
    },
    /// An upstream body passed through as it arrives.
    Stream {
        /// The upstream body.
        inner: Box<UpstreamBody>,
        /// When to give up on it.
        deadline: Option<Pin<Box<Sleep>>>,
        /// Bytes it may still carry.
        remaining: u64,
    },
    /// An upstream body shared with other responses as it arrives.
    Teed {
        /// Its place among the readers.
        reader: TeeReader,
        /// When to give up on it.
        deadline: Option<Pin<Box<Sleep>>>,
        /// What lasts as long as this response (its scrape's place among the fetch's waiters).
        _keep: Box<dyn std::fmt::Debug + Send + Sync>,
    },
}

/// The stream passed its deadline.
#[derive(Debug, thiserror::Error)]
#[error("upstream body not complete at the scrape deadline")]
pub struct BodyDeadline;

/// The stream carried more than its limit.
#[derive(Debug, thiserror::Error)]
#[error("upstream body larger than the limit")]
pub struct BodyTooLarge;

impl Body {
    /// A buffered body.
    pub fn full(b: impl Into<Bytes>) -> Body {
        let b = b.into();
        Body::Full((!b.is_empty()).then_some(b))
    }

    /// A body in the pieces it arrived in, `len` bytes in all.
    pub fn frames(mut pieces: Vec<Bytes>, len: u64) -> Body {
        pieces.reverse();
        Body::Frames { pieces, remaining: len }
    }

    /// A body over the same pieces as other responses, `len` bytes in all.
    pub fn shared(pieces: &[Bytes], len: u64) -> Body {
        Body::Frames { pieces: pieces.iter().rev().cloned().collect(), remaining: len }
    }

    /// A body shared as it arrives, cut off at `deadline`; `keep` lives as long as it does.
    pub fn teed(
        reader: TeeReader,
        deadline: Option<Instant>,
        keep: Box<dyn std::fmt::Debug + Send + Sync>,
    ) -> Body {
        Body::Teed { reader, deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))), _keep: keep }
    }

    /// An empty body.
    pub fn empty() -> Body {
        Body::Full(None)
    }

    /// An upstream body passed through, cut off at `deadline` or after `limit` bytes.
    pub fn stream(inner: UpstreamBody, deadline: Option<Instant>, limit: u64) -> Body {
        Body::Stream {
            inner: Box::new(inner),
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))),
            remaining: limit,
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Frames { pieces, remaining, .. } => Poll::Ready(pieces.pop().map(|b| {
                *remaining = remaining.saturating_sub(b.len() as u64);
                Ok(Frame::data(b))
            })),
            Body::Stream { inner, deadline, remaining } => {
                if let Poll::Ready(frame) = Pin::new(inner).poll_frame(cx) {
                    if let Some(Ok(f)) = &frame
                        && let Some(data) = f.data_ref()
                    {
                        let n = data.len() as u64;
                        if n > *remaining {
                            return Poll::Ready(Some(Err(BodyTooLarge.into())));
                        }
                        *remaining -= n;
                    }
                    return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
                }
                if let Some(d) = deadline
                    && d.as_mut().poll(cx).is_ready()
                {
                    return Poll::Ready(Some(Err(BodyDeadline.into())));
                }
                Poll::Pending
            }
            Body::Teed { reader, deadline, .. } => {
                if let Poll::Ready(piece) = reader.poll_piece(cx) {
                    return Poll::Ready(piece.map(|p| p.map(Frame::data).map_err(Into::into)));
                }
                if let Some(d) = deadline
                    && d.as_mut().poll(cx).is_ready()
                {
                    return Poll::Ready(Some(Err(BodyDeadline.into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(b) => b.is_none(),
            Body::Frames { pieces, .. } => pieces.is_empty(),
            Body::Stream { inner, .. } => inner.is_end_stream(),
            Body::Teed { reader, .. } => reader.is_end(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::Frames { remaining, .. } => SizeHint::with_exact(*remaining),
            Body::Stream { inner, .. } => inner.size_hint(),
            // The upstream's Content-Length, if it sent one, is among the headers served.
            Body::Teed { .. } => SizeHint::default(),
        }
    }
}

use std::future::Future as _;
