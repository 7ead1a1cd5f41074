//! Turns events into the JSON frames clients receive, once per event.

use bytes::Bytes;
use kontor_core::event::Event;
use kontor_core::ids::EventSeq;
use kontor_wire::{EventFrame, encode_frame};

/// The storage-side encoder: events become JSON frames once, at commit.
pub struct JsonEventEncoder;

impl kontor_storage::EventEncoder for JsonEventEncoder {
    fn encode(&self, seq: EventSeq, event: &Event) -> Bytes {
        encode_frame(&EventFrame {
            seq: Some(seq.0),
            event: event.into(),
        })
    }
}
