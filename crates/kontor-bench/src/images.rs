//! `kontor-bench images`: the server's memory under worst-case image
//! uploads. Several people upload, at the same moment, an image that is
//! exactly at the pixel limit and turned by its EXIF orientation (so the
//! server must turn it upright), in a file of a few hundred KiB. The
//! figure is the server's peak resident memory (`VmHWM`), against its
//! resident memory before the uploads; the target is below 1 GiB.

use std::io::Cursor;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::future::join_all;
use img_parts::ImageEXIF;
use serde::Serialize;

use crate::seed::{self, Layout};
use crate::server::ServerUnderTest;
use crate::sys::{CpuSnapshot, CpuUse};

/// Most uploads one run may send at once.
pub const MAX_UPLOADS: usize = 64;
/// How long one upload may take before the run fails.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// The kind of worst-case file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    /// RGBA PNG: 4 bytes per pixel decoded, a tiny file.
    Png,
    /// Baseline JPEG: 3 bytes per pixel decoded.
    Jpeg,
}

/// What to run.
#[derive(Clone, Debug, Serialize, clap::Args)]
pub struct ImagesArgs {
    /// Uploads at once, each by another person.
    #[arg(long, default_value_t = 16)]
    pub uploads: usize,
    /// Side of the square image in pixels (10,000: 100 megapixels, the
    /// default limit).
    #[arg(long, default_value_t = 10_000)]
    pub side: u32,
    /// The kind of file.
    #[arg(long, value_enum, default_value_t = ImageKind::Png)]
    pub kind: ImageKind,
    /// The kontor binary (default: next to this one).
    #[arg(long, default_value_os_t = crate::server::default_binary())]
    pub kontor: std::path::PathBuf,
}

/// What a run found.
#[derive(Debug, Serialize)]
pub struct ImagesReport {
    /// Parameters.
    pub parameters: ImagesArgs,
    /// Size of the uploaded file in KiB.
    pub file_kib: u64,
    /// Uploads the server accepted (201).
    pub accepted: usize,
    /// Answers other than 201, with their status.
    pub refused: Vec<u16>,
    /// Server memory before the uploads, MiB.
    pub rss_before_mib: f64,
    /// Peak server memory over the run (`VmHWM`), MiB.
    pub peak_rss_mib: f64,
    /// Seconds from the first upload to the last answer.
    pub seconds: f64,
    /// Slowest single upload, seconds.
    pub slowest_seconds: f64,
    /// CPU during the uploads.
    pub cpu: CpuUse,
    /// Whether others' load made the timings meaningless (the memory
    /// figures stand regardless).
    pub void: bool,
}

impl ImagesReport {
    /// The report as a short table.
    pub fn table(&self) -> String {
        format!(
            "images: {} × {kind:?} {side}×{side} ({kib} KiB each), orientation 6\n\
             accepted {acc}, refused {ref_:?}\n\
             server RSS before {before:.0} MiB, peak {peak:.0} MiB (target < 1024)\n\
             {secs:.1} s in all, slowest upload {slow:.1} s; server {cores} cores, others {others}{void}\n",
            self.parameters.uploads,
            kind = self.parameters.kind,
            side = self.parameters.side,
            kib = self.file_kib,
            acc = self.accepted,
            ref_ = self.refused,
            before = self.rss_before_mib,
            peak = self.peak_rss_mib,
            secs = self.seconds,
            slow = self.slowest_seconds,
            cores = self
                .cpu
                .server_cores
                .map_or("?".into(), |c| format!("{c:.2}")),
            others = self
                .cpu
                .other_cores
                .map_or("?".into(), |c| format!("{c:.2}")),
            void = if self.void {
                " — VOID: others' load on the machine"
            } else {
                ""
            },
        )
    }
}

/// The worst-case file: one colour (so it compresses to almost nothing)
/// with an EXIF block saying "turned 90°" (orientation 6).
fn worst_case(kind: ImageKind, side: u32) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let tiff: Vec<u8> = {
        let mut t = b"II*\0".to_vec();
        t.extend(8u32.to_le_bytes());
        t.extend(1u16.to_le_bytes());
        t.extend(0x0112u16.to_le_bytes());
        t.extend(3u16.to_le_bytes());
        t.extend(1u32.to_le_bytes());
        t.extend(6u16.to_le_bytes());
        t.extend([0, 0]);
        t.extend(0u32.to_le_bytes());
        t
    };
    match kind {
        ImageKind::Png => {
            let img = image::RgbaImage::from_pixel(side, side, image::Rgba([40, 90, 160, 255]));
            image::DynamicImage::ImageRgba8(img)
                .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)?;
            let mut png = img_parts::png::Png::from_bytes(out.into())?;
            png.set_exif(Some(tiff.into()));
            Ok(png.encoder().bytes().to_vec())
        }
        ImageKind::Jpeg => {
            let img = image::RgbImage::from_pixel(side, side, image::Rgb([40, 90, 160]));
            image::DynamicImage::ImageRgb8(img)
                .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)?;
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(out.into())?;
            jpeg.set_exif(Some(tiff.into()));
            Ok(jpeg.encoder().bytes().to_vec())
        }
    }
}

/// Peak resident memory of a process so far (`VmHWM`), in bytes.
fn peak_rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Run the image benchmark end to end.
pub async fn run(args: &ImagesArgs) -> anyhow::Result<ImagesReport> {
    if args.uploads == 0 || args.uploads > MAX_UPLOADS {
        bail!("uploads must be 1..={MAX_UPLOADS}");
    }
    if !(16..=20_000).contains(&args.side) {
        bail!("side must be 16..=20000");
    }
    let file = worst_case(args.kind, args.side)?;
    let tmp = tempfile::Builder::new()
        .prefix("kontor-images-bench-")
        .tempdir()?;
    let dir = tmp.path().to_owned();
    let fixture = seed::seed(&dir, None, args.uploads.max(2), Layout::Channel, 0).await?;
    let channel = fixture
        .conversations
        .first()
        .context("the seeded channel")?
        .id;
    let server = ServerUnderTest::start(&args.kontor, &dir, None).await?;
    let pid = server.pid();
    let http = reqwest::Client::builder().timeout(UPLOAD_TIMEOUT).build()?;
    // One small upload first, so lazily allocated parts of the server are
    // in the "before" figure and not counted as the images' memory.
    let tiny = worst_case(ImageKind::Png, 16)?;
    let url = format!("{}/api/v1/conversations/{channel}/attachments", server.url);
    http.post(&url)
        .bearer_auth(&fixture.people[0].token)
        .query(&[("name", "warm.png")])
        .body(tiny)
        .send()
        .await?
        .error_for_status()?;
    let rss_before = crate::sys::process_rss_bytes(pid).unwrap_or(0);
    let before = CpuSnapshot::take(Some(pid), &[], false);
    let started = Instant::now();
    let answers = join_all(fixture.people.iter().take(args.uploads).map(|person| {
        let (http, url, body) = (http.clone(), url.clone(), file.clone());
        async move {
            let t = Instant::now();
            let status = http
                .post(url)
                .bearer_auth(&person.token)
                .query(&[("name", "gedreht.png")])
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16());
            (status, t.elapsed())
        }
    }))
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = CpuUse::between(&before, &CpuSnapshot::take(Some(pid), &[], false));
    let peak = peak_rss_bytes(pid).unwrap_or(0);
    server.stop();
    let mut accepted = 0;
    let mut refused = Vec::new();
    let mut slowest = Duration::ZERO;
    for (status, took) in answers {
        slowest = slowest.max(took);
        match status? {
            201 => accepted += 1,
            s => refused.push(s),
        }
    }
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    Ok(ImagesReport {
        parameters: args.clone(),
        file_kib: file.len() as u64 / 1024,
        accepted,
        refused,
        rss_before_mib: mib(rss_before),
        peak_rss_mib: mib(peak),
        seconds,
        slowest_seconds: slowest.as_secs_f64(),
        void: cpu.disturbed(),
        cpu,
    })
}
