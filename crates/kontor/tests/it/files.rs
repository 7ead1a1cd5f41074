//! Attachments against a real server, on both blob stores (the local
//! directory, and an S3-compatible server on loopback): round trips, type sniffing, safe download headers, sanitised names that never
//! become paths, EXIF/GPS stripped from photos, decompression bombs
//! refused, membership checked on every download, quotas, and files gone
//! with their message.

use crate::common;

crate::on_both_backends!(
    files_round_trip_with_sniffed_types_and_safe_headers,
    photos_lose_their_gps_position_and_bombs_are_refused,
    downloads_check_membership_every_time,
    deleting_a_message_deletes_its_files,
    search_can_ask_for_messages_with_files,
    sizes_and_quotas_are_enforced_with_clear_errors,
    pending_uploads_can_be_withdrawn_and_lists_show_files,
    the_sweep_removes_unsent_uploads_and_orphans_only,
    large_files_stream_through_intact,
);

use std::io::Cursor;

use common::*;
use kontor_client::kontor_wire::WireEvent;
use kontor_client::kontor_wire::requests::SendMessage;
use kontor_client::{Client, ClientError};

/// A valid PNG (solid colour) of the given size.
fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode png");
    out
}

/// The GPS position the test photo claims; it must not survive upload.
const GPS_MARKER: &[u8] = b"GPS 52.5200N 13.4050E Hauptstr. 1";

/// A JPEG with an EXIF block holding a GPS IFD (latitude reference and a
/// map datum text that is easy to look for).
fn jpeg_with_gps() -> Vec<u8> {
    jpeg_with_exif(16, 16, None)
}

/// A `width` × `height` JPEG whose EXIF has a GPS IFD and, if given, an
/// orientation tag (6: the camera was turned, show it rotated 90°).
fn jpeg_with_exif(width: u32, height: u32, orientation: Option<u16>) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([10, 120, 200]));
    let mut plain = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Jpeg)
        .expect("encode jpeg");
    // Little-endian TIFF: IFD0 at 8 (orientation, GPSInfo), then the GPS
    // IFD with GPSLatitudeRef "N" and GPSMapDatum (its text after it).
    let ifd0_entries = 1 + u32::from(orientation.is_some());
    let gps_ifd = 8 + 2 + 12 * ifd0_entries + 4;
    let text_at = gps_ifd + 2 + 12 * 2 + 4;
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    tiff.extend((ifd0_entries as u16).to_le_bytes());
    if let Some(o) = orientation {
        tiff.extend([0x12, 0x01, 3, 0]); // tag 0x0112, type SHORT
        tiff.extend(1u32.to_le_bytes());
        tiff.extend(o.to_le_bytes());
        tiff.extend([0, 0]);
    }
    tiff.extend([0x25, 0x88, 4, 0]); // tag 0x8825, type LONG
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(gps_ifd.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    tiff.extend([1, 0, 2, 0]); // GPSLatitudeRef, ASCII
    tiff.extend(2u32.to_le_bytes());
    tiff.extend(*b"N\0\0\0");
    tiff.extend([0x12, 0, 2, 0]); // GPSMapDatum, ASCII
    tiff.extend((GPS_MARKER.len() as u32 + 1).to_le_bytes());
    tiff.extend(text_at.to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    assert_eq!(tiff.len() as u32, text_at);
    tiff.extend(GPS_MARKER);
    tiff.push(0);
    let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(plain.into()).expect("parse jpeg");
    use img_parts::ImageEXIF;
    jpeg.set_exif(Some(tiff.into()));
    jpeg.encoder().bytes().to_vec()
}

/// A PNG that claims 50,000 × 50,000 pixels (7.5 GB decoded) in a few
/// dozen bytes: only its header is valid.
fn png_bomb() -> Vec<u8> {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend(kind);
        c.extend(data);
        let mut crc = crc32(kind);
        crc = crc32_continue(crc, data);
        c.extend(crc.to_be_bytes());
        c
    }
    let mut ihdr = 50_000u32.to_be_bytes().to_vec();
    ihdr.extend(50_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(chunk(b"IEND", &[]));
    out
}

fn crc32(data: &[u8]) -> u32 {
    crc32_continue(0, data)
}

/// CRC-32 (IEEE), continuing from a previous value.
fn crc32_continue(prev: u32, data: &[u8]) -> u32 {
    let mut crc = !prev;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn code(e: &ClientError) -> (Option<u16>, Option<&str>) {
    (e.status(), e.code())
}

fn with_files(text: &str, ids: Vec<i64>) -> SendMessage {
    SendMessage {
        attachment_ids: ids,
        ..common::text(text)
    }
}

async fn files_round_trip_with_sniffed_types_and_safe_headers(backend: Backend) {
    let srv = TestServer::start_on(&backend).await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let conv = group(&anna, "Dokumente", &[bernd_user.id.0]).await;
    let (mut bernd_ev, _) = events(&bernd).await;

    // Bigger than the JSON body limit (64 KiB): uploads stream.
    let report: Vec<u8> = b"%PDF-1.7\n"
        .iter()
        .copied()
        .chain((0..300_000).map(|i| (i % 251) as u8))
        .collect();
    let pdf = anna
        .upload(conv.id, "Prüfbericht Presse 4.png", report.clone())
        .await
        .expect("upload");
    assert_eq!(
        pdf.content_type, "application/pdf",
        "the content decides, not the name"
    );
    assert_eq!(pdf.name, "Prüfbericht Presse 4.png");
    assert_eq!(pdf.size, report.len() as u64);
    assert_eq!(pdf.message_id, None);
    let html = anna
        .upload(
            conv.id,
            "nett.txt",
            b"<!doctype html><script>alert(1)</script>".to_vec(),
        )
        .await
        .expect("upload html");
    assert_eq!(html.content_type, "text/html");
    let svg = anna
        .upload(
            conv.id,
            "logo.svg",
            b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"
                .to_vec(),
        )
        .await
        .expect("upload svg");
    assert_eq!(svg.content_type, "image/svg+xml");
    let photo = anna
        .upload(conv.id, "linie2.png", png(640, 480))
        .await
        .expect("png");
    assert_eq!((photo.width, photo.height), (Some(640), Some(480)));
    assert!(photo.thumbnail_url.is_some());

    // Only the uploader sees a file before it is sent.
    let early = bernd.download(pdf.id, false).await.expect_err("not yet");
    assert_eq!(code(&early), (Some(404), Some("not_found")));

    let (sent, _) = anna
        .send(
            conv.id,
            &with_files("", vec![pdf.id, html.id, svg.id, photo.id]),
        )
        .await
        .expect("send with files, no text");
    assert_eq!(sent.attachments.len(), 4);
    let f = next_matching(&mut bernd_ev, |e| {
        matches!(e, WireEvent::MessageCreated { .. })
    })
    .await;
    let WireEvent::MessageCreated { message } = f.event else {
        unreachable!()
    };
    assert_eq!(
        message.attachments.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![pdf.id, html.id, svg.id, photo.id]
    );

    let got = bernd.download(pdf.id, false).await.expect("download");
    assert_eq!(got.bytes, report);
    assert_eq!(got.header("content-type"), "application/pdf");
    assert_eq!(got.header("x-content-type-options"), "nosniff");
    assert!(
        got.header("content-disposition")
            .starts_with("inline; filename=\"Pr_fbericht Presse 4.png\"")
    );
    assert!(
        got.header("content-disposition")
            .contains("filename*=UTF-8''Pr%C3%BCfbericht%20Presse%204.png"),
        "{}",
        got.header("content-disposition")
    );
    assert!(got.header("cache-control").contains("no-store"));
    // Shown inline, but a PDF may carry script: opened straight from this
    // URL it runs without our origin.
    assert!(
        got.header("content-security-policy")
            .starts_with("sandbox;"),
        "{}",
        got.header("content-security-policy")
    );
    for risky in [&html, &svg] {
        let got = bernd.download(risky.id, false).await.expect("download");
        assert!(
            got.header("content-disposition").starts_with("attachment;"),
            "{}",
            risky.name
        );
        assert!(
            got.header("content-security-policy").starts_with("sandbox"),
            "{}",
            risky.name
        );
        assert_eq!(got.header("x-content-type-options"), "nosniff");
    }
    let thumb = bernd.download(photo.id, true).await.expect("thumbnail");
    assert_eq!(thumb.header("content-type"), "image/jpeg");
    let small = image::load_from_memory(&thumb.bytes).expect("thumbnail decodes");
    assert_eq!((small.width(), small.height()), (320, 240));
    let no_thumb = bernd
        .download(pdf.id, true)
        .await
        .expect_err("pdf has none");
    assert_eq!(code(&no_thumb), (Some(404), Some("not_found")));

    // Names never reach the file system: every stored file is named by
    // the server.
    for name in backend.stored_names(srv.dir.path()).await {
        let hex = name.strip_suffix(".thumb").unwrap_or(&name);
        assert!(
            hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}"
        );
    }
}

async fn photos_lose_their_gps_position_and_bombs_are_refused(backend: Backend) {
    let srv = TestServer::start_on(&backend).await;
    let (anna, _) = srv.client("anna").await;
    let conv = channel(&anna, "Fotos").await;
    let original = jpeg_with_gps();
    let parsed = img_parts::jpeg::Jpeg::from_bytes(original.clone().into()).expect("jpeg");
    use img_parts::ImageEXIF;
    assert!(parsed.exif().is_some(), "the test photo carries EXIF");
    assert!(original.windows(GPS_MARKER.len()).any(|w| w == GPS_MARKER));

    let up = anna
        .upload(conv.id, "IMG_0001.JPG", original)
        .await
        .expect("upload");
    assert_eq!(up.content_type, "image/jpeg");
    let stored = anna.download(up.id, false).await.expect("download");
    assert!(
        !stored
            .bytes
            .windows(GPS_MARKER.len())
            .any(|w| w == GPS_MARKER)
    );
    assert!(
        !stored.bytes.windows(6).any(|w| w == b"Exif\0\0"),
        "no EXIF block left"
    );
    let reparsed = img_parts::jpeg::Jpeg::from_bytes(stored.bytes.clone().into()).expect("jpeg");
    assert!(reparsed.exif().is_none());
    let img = image::load_from_memory(&stored.bytes).expect("still a valid image");
    assert_eq!((img.width(), img.height()), (16, 16));
    assert_eq!(up.size, stored.bytes.len() as u64);

    // A photo taken with the phone turned keeps its orientation, and only
    // that: it is shown upright, its thumbnail is made upright.
    let turned = anna
        .upload(conv.id, "IMG_0002.JPG", jpeg_with_exif(40, 20, Some(6)))
        .await
        .expect("upload");
    assert_eq!((turned.width, turned.height), (Some(20), Some(40)));
    let stored = anna.download(turned.id, false).await.expect("download");
    assert!(
        !stored
            .bytes
            .windows(GPS_MARKER.len())
            .any(|w| w == GPS_MARKER)
    );
    let reparsed = img_parts::jpeg::Jpeg::from_bytes(stored.bytes.clone().into()).expect("jpeg");
    let exif = reparsed.exif().expect("the orientation is kept");
    assert_eq!(exif.len(), 26, "nothing but the orientation: {exif:?}");
    assert_eq!(
        &exif[10..12],
        &[0x12, 0x01],
        "the one entry is the orientation"
    );
    assert_eq!(&exif[18..20], &[6, 0]);
    let thumb = anna.download(turned.id, true).await.expect("thumbnail");
    let small = image::load_from_memory(&thumb.bytes).expect("decodes");
    assert_eq!((small.width(), small.height()), (20, 40));

    let bomb = anna
        .upload(conv.id, "bomb.png", png_bomb())
        .await
        .expect_err("refused");
    assert_eq!(code(&bomb), (Some(422), Some("limit_exceeded")));
    assert!(bomb.to_string().contains("50000 × 50000"), "{bomb}");
    let broken = anna
        .upload(
            conv.id,
            "kaputt.png",
            b"\x89PNG\r\n\x1a\nnot really".to_vec(),
        )
        .await
        .expect_err("refused");
    assert_eq!(code(&broken), (Some(422), Some("invalid_input")));
    let empty = anna
        .upload(conv.id, "leer.txt", Vec::new())
        .await
        .expect_err("refused");
    assert_eq!(code(&empty), (Some(422), Some("invalid_input")));
    // Nothing refused was kept.
    assert_eq!(
        backend.stored_names(srv.dir.path()).await.len(),
        4,
        "the two photos and their thumbnails"
    );
}

async fn downloads_check_membership_every_time(backend: Backend) {
    let srv = TestServer::start_on(&backend).await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (claudia, _) = srv.client("claudia").await;
    let conv = group(&anna, "Lohn", &[bernd_user.id.0]).await;
    let other = group(&anna, "Anderes", &[bernd_user.id.0]).await;

    // Uploading needs a conversation one may post in.
    let outside = claudia
        .upload(conv.id, "x.txt", b"hallo".to_vec())
        .await
        .expect_err("no");
    assert_eq!(code(&outside), (Some(404), Some("not_found")));

    let up = anna
        .upload(conv.id, "lohn.txt", b"geheim".to_vec())
        .await
        .expect("upload");
    // Someone else's upload, or one from another conversation, cannot be
    // attached.
    let stolen = bernd
        .send(conv.id, &with_files("meins", vec![up.id]))
        .await
        .expect_err("no");
    assert_eq!(code(&stolen), (Some(404), Some("not_found")));
    let moved = anna
        .send(other.id, &with_files("hier", vec![up.id]))
        .await
        .expect_err("no");
    assert_eq!(code(&moved), (Some(404), Some("not_found")));
    anna.send(conv.id, &with_files("Lohnliste", vec![up.id]))
        .await
        .expect("send");
    let again = anna
        .send(conv.id, &with_files("nochmal", vec![up.id]))
        .await
        .expect_err("used");
    assert_eq!(code(&again), (Some(404), Some("not_found")));

    assert_eq!(
        bernd.download(up.id, false).await.expect("member").bytes,
        b"geheim"
    );
    let stranger = claudia
        .download(up.id, false)
        .await
        .expect_err("not a member");
    assert_eq!(code(&stranger), (Some(404), Some("not_found")));
    let anonymous = Client::new(&srv.url).expect("client");
    let anon = anonymous
        .download(up.id, false)
        .await
        .expect_err("no session");
    assert_eq!(anon.status(), Some(401));

    anna.remove_member(conv.id, bernd_user.id.0)
        .await
        .expect("removed");
    let gone = bernd
        .download(up.id, false)
        .await
        .expect_err("removed member");
    assert_eq!(code(&gone), (Some(404), Some("not_found")));
}

async fn deleting_a_message_deletes_its_files(backend: Backend) {
    let srv = TestServer::start_on(&backend).await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let conv = direct(&anna, bernd_user.id.0).await;
    let photo = anna.upload(conv.id, "a.png", png(8, 8)).await.expect("png");
    let doc = anna
        .upload(conv.id, "b.txt", b"Notiz".to_vec())
        .await
        .expect("txt");
    let (m, _) = anna
        .send(conv.id, &with_files("zwei Dateien", vec![photo.id, doc.id]))
        .await
        .expect("send");
    assert_eq!(backend.stored_names(srv.dir.path()).await.len(), 3);
    anna.delete(m.id).await.expect("delete");
    for id in [photo.id, doc.id] {
        let e = bernd.download(id, false).await.expect_err("gone");
        assert_eq!(code(&e), (Some(404), Some("not_found")));
    }
    assert!(
        backend.stored_names(srv.dir.path()).await.is_empty(),
        "contents removed from disk"
    );
    let after = bernd.message(m.id).await.expect("tombstone");
    assert!(after.attachments.is_empty());
}

async fn search_can_ask_for_messages_with_files(backend: Backend) {
    use kontor_client::kontor_wire::requests::SearchParams;
    let srv = TestServer::start_on(&backend).await;
    let (anna, _) = srv.client("anna").await;
    let conv = channel(&anna, "Pläne").await;
    let plan = anna
        .upload(conv.id, "plan.txt", b"Schichtplan".to_vec())
        .await
        .expect("upload");
    let (with, _) = anna
        .send(
            conv.id,
            &with_files("Schichtplan für Dezember", vec![plan.id]),
        )
        .await
        .expect("send");
    anna.send(conv.id, &common::text("Schichtplan kommt morgen"))
        .await
        .expect("send");
    let ids = |r: kontor_client::kontor_wire::requests::SearchResponse| {
        r.hits.iter().map(|h| h.message.id).collect::<Vec<_>>()
    };
    let all = anna
        .search(&SearchParams {
            q: "Schichtplan".into(),
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!(all.hits.len(), 2);
    let files_only = anna
        .search(&SearchParams {
            q: "Schichtplan".into(),
            has_file: true,
            ..Default::default()
        })
        .await
        .expect("search");
    assert_eq!(ids(files_only), vec![with.id]);
}

async fn sizes_and_quotas_are_enforced_with_clear_errors(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = TestServer::start_configured(dir, |c| {
        backend.configure(c);
        c.files.max_upload_mib = 1;
        c.files.user_quota_mib = 2;
        c.files.image_memory_mib = 4;
    })
    .await;
    let (anna, _) = srv.client("anna").await;
    let conv = channel(&anna, "Ablage").await;
    // An image is refused from its header when decoding it would need more
    // than the server's image memory: 1500 × 1500 RGB is 6.4 MiB of pixels,
    // however few bytes its file has.
    let wide = anna
        .upload(conv.id, "weit.png", png(1500, 1500))
        .await
        .expect_err("needs more than the image memory");
    assert_eq!(code(&wide), (Some(422), Some("limit_exceeded")));
    assert!(
        wide.to_string().contains("at most 4 MiB are available"),
        "{wide}"
    );
    let small = anna
        .upload(conv.id, "klein.png", png(400, 300))
        .await
        .expect("fits in the image memory");
    assert_eq!((small.width, small.height), (Some(400), Some(300)));
    anna.delete_attachment(small.id).await.expect("withdrawn");
    let big = anna
        .upload(conv.id, "gross.bin", vec![7u8; 1024 * 1024 + 1])
        .await
        .expect_err("too big");
    assert_eq!(code(&big), (Some(413), Some("payload_too_large")));
    let mib = vec![b'x'; 1024 * 1024];
    anna.upload(conv.id, "eins.txt", mib.clone())
        .await
        .expect("first MiB");
    anna.upload(conv.id, "zwei.txt", mib.clone())
        .await
        .expect("second MiB");
    let over = anna
        .upload(conv.id, "drei.txt", mib)
        .await
        .expect_err("quota");
    assert_eq!(code(&over), (Some(422), Some("limit_exceeded")));
    assert!(over.to_string().contains("quota of 2 MiB"), "{over}");
    assert_eq!(
        backend.stored_names(srv.dir.path()).await.len(),
        2,
        "refused uploads leave nothing"
    );
    let staging = std::fs::read_dir(srv.dir.path().join("files/staging")).expect("staging");
    assert_eq!(staging.count(), 0, "no staged leftovers");
}

async fn pending_uploads_can_be_withdrawn_and_lists_show_files(backend: Backend) {
    let srv = TestServer::start_on(&backend).await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let conv = direct(&anna, bernd_user.id.0).await;
    let tiny = anna
        .upload(conv.id, "klein.png", png(2, 2))
        .await
        .expect("png");
    let thumb = anna.download(tiny.id, true).await.expect("thumbnail");
    let img = image::load_from_memory(&thumb.bytes).expect("decodes");
    assert_eq!(
        (img.width(), img.height()),
        (2, 2),
        "thumbnails never enlarge"
    );

    // Withdrawn before sending: gone, and not counted any more.
    let draft = anna
        .upload(conv.id, "entwurf.txt", b"alt".to_vec())
        .await
        .expect("upload");
    assert_eq!(backend.stored_names(srv.dir.path()).await.len(), 3);
    let not_hers = bernd
        .delete_attachment(draft.id)
        .await
        .expect_err("only the uploader");
    assert_eq!(code(&not_hers), (Some(404), Some("not_found")));
    anna.delete_attachment(draft.id).await.expect("withdrawn");
    assert_eq!(backend.stored_names(srv.dir.path()).await.len(), 2);
    let e = anna.download(draft.id, false).await.expect_err("gone");
    assert_eq!(code(&e), (Some(404), Some("not_found")));

    // Order is the upload order everywhere; the list preview has the files.
    let second = anna
        .upload(conv.id, "b.txt", b"b".to_vec())
        .await
        .expect("upload");
    let (sent, _) = anna
        .send(conv.id, &with_files("", vec![second.id, tiny.id]))
        .await
        .expect("send");
    let order: Vec<i64> = sent.attachments.iter().map(|a| a.id).collect();
    assert_eq!(order, vec![tiny.id, second.id]);
    // The withdrawn upload was the newest row; its id is never given
    // again, so a retried withdrawal cannot hit the next upload.
    assert!(second.id > draft.id, "{} reused {}", second.id, draft.id);
    let retried = anna.delete_attachment(draft.id).await.expect_err("retry");
    assert_eq!(code(&retried), (Some(404), Some("not_found")));
    let list = bernd.conversations().await.expect("list");
    let preview = list[0].last_message.as_ref().expect("preview");
    assert_eq!(
        preview.attachments.iter().map(|a| a.id).collect::<Vec<_>>(),
        order
    );
    let sent_one = anna.delete_attachment(tiny.id).await.expect_err("sent");
    assert_eq!(code(&sent_one), (Some(409), Some("conflict")));

    let limits: serde_json::Value = reqwest::get(format!("{}/api/v1/limits", srv.url))
        .await
        .expect("limits")
        .json()
        .await
        .expect("json");
    assert_eq!(limits["max_upload_bytes"], 100 * 1024 * 1024);
    assert_eq!(limits["max_attachments_per_message"], 10);
}

async fn the_sweep_removes_unsent_uploads_and_orphans_only(backend: Backend) {
    use std::time::{Duration, SystemTime};

    use kontor_core::model::Timestamp;
    use kontor_server::service::sweep::{ORPHAN_GRACE, SweepReport, sweep};
    use tokio::io::AsyncWriteExt;

    let srv = TestServer::start_on(&backend).await;
    let (anna, _) = srv.client("anna").await;
    let conv = channel(&anna, "Lager").await;
    let sent = anna
        .upload(conv.id, "foto.png", png(40, 30))
        .await
        .expect("upload");
    anna.send(conv.id, &with_files("Regal 3", vec![sent.id]))
        .await
        .expect("sent");
    let unsent = anna
        .upload(conv.id, "vergessen.txt", b"nie gesendet".to_vec())
        .await
        .expect("upload");

    // Content a crash left behind: stored, never recorded.
    let orphan = "00112233445566778899aabbccddeeff";
    let (path, mut file) = srv.state.blobs.stage().await.expect("stage");
    file.write_all(b"verwaist").await.expect("write");
    file.flush().await.expect("flush");
    drop(file);
    srv.state.blobs.commit(&path, orphan).await.expect("commit");
    assert_eq!(backend.stored_names(srv.dir.path()).await.len(), 4);

    let now = srv.state.now().0;
    // Recent uploads stay, and so does content younger than the grace
    // period: it may be an upload about to be recorded.
    let first = sweep(
        &srv.state,
        Some(Timestamp(now - 3_600_000)),
        SystemTime::now() - ORPHAN_GRACE,
    )
    .await
    .expect("sweep");
    assert_eq!(first, SweepReport::default());
    assert_eq!(backend.stored_names(srv.dir.path()).await.len(), 4);
    // No cut-off for unsent uploads: they all stay.
    let later = SystemTime::now() + Duration::from_secs(1);
    let kept = sweep(&srv.state, None, SystemTime::UNIX_EPOCH)
        .await
        .expect("sweep");
    assert_eq!(kept, SweepReport::default());
    // Old enough: the unsent upload and the orphan go; recorded content,
    // however old, stays.
    let second = sweep(&srv.state, Some(Timestamp(now + 1_000)), later)
        .await
        .expect("sweep");
    assert_eq!(
        second,
        SweepReport {
            unsent_uploads: 1,
            orphans: 1
        }
    );
    let left = backend.stored_names(srv.dir.path()).await;
    assert_eq!(left.len(), 2, "the sent photo and its thumbnail: {left:?}");
    assert!(!left.iter().any(|k| k == orphan));
    let e = anna.download(unsent.id, false).await.expect_err("swept");
    assert_eq!(code(&e), (Some(404), Some("not_found")));
    let kept = anna
        .download(sent.id, false)
        .await
        .expect("sent file stays");
    assert!(!kept.bytes.is_empty());
    anna.download(sent.id, true).await.expect("thumbnail stays");
}

/// A file larger than one S3 part (10 MiB) goes up as a multipart upload
/// and comes back byte for byte.
async fn large_files_stream_through_intact(backend: Backend) {
    let srv = TestServer::start_on(&backend).await;
    let (anna, _) = srv.client("anna").await;
    let conv = channel(&anna, "Videos").await;
    let mut content = Vec::with_capacity(23 * 1024 * 1024);
    let mut x: u32 = 0x1234_5678;
    while content.len() < 23 * 1024 * 1024 + 17 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        content.extend_from_slice(&x.to_le_bytes());
    }
    let up = anna
        .upload(conv.id, "schulung.bin", content.clone())
        .await
        .expect("upload");
    assert_eq!(up.size, content.len() as u64);
    let got = anna.download(up.id, false).await.expect("download");
    assert_eq!(got.bytes.len(), content.len());
    assert!(got.bytes == content, "content changed on the way");
}

/// The S3 server really verifies signatures: a wrong secret stops the
/// start with a clear error, and an unsigned upload is refused outright.
#[tokio::test]
#[ignore = "needs an S3-compatible server (KONTOR_TEST_S3_ENDPOINT)"]
async fn s3_refuses_a_wrong_secret_and_unsigned_requests() {
    let Backend::S3(mut s3) = Backend::s3() else {
        panic!("Backend::s3 gives an S3 backend");
    };
    let endpoint = s3.endpoint.clone();
    let bucket = s3.bucket.clone();
    s3.secret_access_key = "not-the-secret".into();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = kontor_server::config::Config::default();
    config.storage.data_dir = dir.path().to_owned();
    Backend::S3(s3).configure(&mut config);
    let err = match kontor_server::Server::open(config).await {
        Ok(_) => panic!("a wrong secret must stop the start"),
        Err(e) => e,
    };
    match &err {
        kontor_server::ServerError::Blobs { source, .. } => {
            assert_eq!(source.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
        }
        other => panic!("expected a file store error, got {other}"),
    }

    let unsigned = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}/unsigned-upload"))
        .body("x")
        .send()
        .await
        .expect("request");
    assert_eq!(unsigned.status(), 403, "unsigned PUT must be refused");
}

/// An S3 server of this test's own, on a free loopback port.
struct OwnS3 {
    child: std::process::Child,
    port: u16,
    root: tempfile::TempDir,
}

impl OwnS3 {
    const KEY: &str = "readiness-key";
    const SECRET: &str = "readiness-secret";

    fn start(root: tempfile::TempDir, port: u16) -> OwnS3 {
        let child = std::process::Command::new("s3s-fs")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", Self::KEY, "--secret-key", Self::SECRET])
            .arg(root.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("s3s-fs on PATH (.ci/run installs it)");
        OwnS3 { child, port, root }
    }

    async fn wait_listening(&self) {
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("s3s-fs did not start on port {}", self.port);
    }

    fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.root
    }
}

/// `/readyz` follows the file store: 503 while the bucket's server is
/// down, 200 again as soon as it is back, with no restart of Kontor.
#[tokio::test]
#[ignore = "needs s3s-fs on PATH (installed by .ci/run)"]
async fn readiness_follows_the_file_store() {
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(root.path().join("ready")).expect("bucket");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let s3 = OwnS3::start(root, port);
    s3.wait_listening().await;
    let backend = Backend::S3(kontor_server::config::S3Settings {
        endpoint: format!("http://127.0.0.1:{port}"),
        bucket: "ready".into(),
        access_key_id: OwnS3::KEY.into(),
        secret_access_key: OwnS3::SECRET.into(),
        allow_http: true,
        ..Default::default()
    });
    let srv = TestServer::start_on(&backend).await;
    let (anna, _) = srv.client("anna").await;
    let conv = channel(&anna, "Ausfall").await;
    let ready = || async {
        reqwest::get(format!("{}/readyz", srv.url))
            .await
            .expect("readyz")
    };
    assert_eq!(ready().await.status(), 200);

    let root = s3.stop();
    let down = ready().await;
    assert_eq!(down.status(), 503);
    let body: serde_json::Value = down.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unavailable");
    // Uploads meanwhile fail cleanly (small ones are one PUT, large ones
    // multipart), and nothing is left in staging.
    for size in [10, 11 * 1024 * 1024] {
        let e = anna
            .upload(conv.id, "notiz.txt", vec![b'x'; size])
            .await
            .expect_err("store down");
        assert_eq!(code(&e), (Some(503), Some("unavailable")), "{size} bytes");
    }
    let staging = std::fs::read_dir(srv.dir.path().join("files/staging")).expect("staging");
    assert_eq!(staging.count(), 0, "no staged upload left behind");

    let s3 = OwnS3::start(root, port);
    s3.wait_listening().await;
    assert_eq!(ready().await.status(), 200, "ready again by itself");
    s3.stop();
}
