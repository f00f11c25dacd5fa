//! How the portal's server functions travel: JSON in a `POST` body, both
//! ways, as Leptos' own `Json`, except that an answer is read from its text
//! (`serde_json::from_str`) rather than from its bytes.
//!
//! A page hydrates its resources from the JSON the server rendered into it,
//! which Leptos reads from text; reading the server functions' answers the
//! same way lets every answer type's deserializer be compiled once for the
//! browser instead of twice (once per kind of reader), which is a large part
//! of the portal's wasm.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The server functions' protocol: [`JsonText`] in a `POST` body.
pub type Json = Post<JsonText>;

/// JSON, read from its text.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}
