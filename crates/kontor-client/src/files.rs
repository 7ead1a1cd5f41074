//! Attachments: upload, download, withdraw.

use reqwest::Method;

use crate::{Client, ClientError, ClientResult, finish};
use kontor_wire::Attachment;

impl Client {
    /// Upload a file into a conversation; attach it by naming its id in a
    /// message's `attachment_ids`.
    pub async fn upload(
        &self,
        conversation: i64,
        name: &str,
        body: impl Into<reqwest::Body>,
    ) -> ClientResult<Attachment> {
        let req = self
            .http
            .post(format!(
                "{}/api/v1/conversations/{conversation}/attachments",
                self.base
            ))
            .query(&[("name", name)])
            .header("content-type", "application/octet-stream")
            .body(body);
        let (_, bytes) = finish(self.authed(req).send().await?).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Transport(format!("unexpected response: {e}")))
    }

    /// Withdraw my upload before it was sent.
    pub async fn delete_attachment(&self, id: i64) -> ClientResult<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/attachments/{id}"), None)
            .await
    }

    /// Download an attachment (or its thumbnail): its headers and bytes.
    pub async fn download(&self, id: i64, thumbnail: bool) -> ClientResult<Download> {
        let mut req = self
            .http
            .get(format!("{}/api/v1/attachments/{id}", self.base));
        if thumbnail {
            req = req.query(&[("thumbnail", "true")]);
        }
        let resp = self.authed(req).send().await?;
        let headers = resp.headers().clone();
        let (_, bytes) = finish(resp).await?;
        Ok(Download { headers, bytes })
    }
}

/// A downloaded file.
#[derive(Debug)]
pub struct Download {
    /// The response headers (type, disposition, security headers).
    pub headers: reqwest::header::HeaderMap,
    /// The content.
    pub bytes: Vec<u8>,
}

impl Download {
    /// A header as text ("" when missing).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}
