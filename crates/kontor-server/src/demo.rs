//! The demo company "Muster Maschinenbau GmbH": people, departments,
//! channels, groups, direct conversations and a week of history in German
//! and English.
//!
//! Seeded through the same service functions the API uses, and idempotent:
//! existing users are kept, conversations are found by name, and every
//! message carries a fixed transaction id, so running the seeder again (or
//! after an interrupted run) adds nothing twice.

use std::sync::atomic::{AtomicI64, Ordering};

use kontor_core::ids::{ConversationId, UserId};
use kontor_core::model::{Actor, ConversationKind, OrgRole, Timestamp, User};

use crate::error::ApiResult;
use crate::service::accounts::{self, UserSpec};
use crate::service::conversations::{self, ConversationSpec};
use crate::service::messages::{self, MessageSpec};
use crate::state::{AppState, Clock, SystemClock};

/// The demo organisation's name.
pub const DEMO_ORG: &str = "Muster Maschinenbau GmbH";
/// Every demo user's password.
pub const DEMO_PASSWORD: &str = "kontor-demo";

/// A clock that can be set back while the demo history is written, so the
/// history spans a week instead of one second.
#[derive(Default)]
pub struct DemoClock {
    offset_ms: AtomicI64,
}

impl DemoClock {
    fn set_offset(&self, ms: i64) {
        self.offset_ms.store(ms, Ordering::Relaxed);
    }
}

impl Clock for DemoClock {
    fn now(&self) -> Timestamp {
        Timestamp(SystemClock.now().0 + self.offset_ms.load(Ordering::Relaxed))
    }
}

/// (username, display name, department, admin)
const PEOPLE: &[(&str, &str, &str, bool)] = &[
    ("anna.schmidt", "Anna Schmidt", "Geschäftsführung", true),
    ("bernd.mueller", "Bernd Müller", "Produktion", false),
    ("claudia.weber", "Claudia Weber", "Personal", false),
    ("deniz.yilmaz", "Deniz Yılmaz", "Produktion", false),
    ("elena.popescu", "Elena Popescu", "Logistik", false),
    ("frank.becker", "Frank Becker", "IT", true),
    ("greta.hoffmann", "Greta Hoffmann", "Vertrieb", false),
    ("hannes.koch", "Hannes Koch", "Produktion", false),
    ("ines.schaefer", "Ines Schäfer", "Vertrieb", false),
    ("jonas.wagner", "Jonas Wagner", "IT", false),
    ("katarzyna.nowak", "Katarzyna Nowak", "Logistik", false),
    ("lukas.richter", "Lukas Richter", "Produktion", false),
    ("maria.klein", "Maria Klein", "Personal", false),
    ("niklas.wolf", "Niklas Wolf", "Logistik", false),
    ("olivia.brown", "Olivia Brown", "Vertrieb", false),
    ("paul.neumann", "Paul Neumann", "Produktion", false),
    ("rana.haddad", "Rana Haddad", "IT", false),
    (
        "sebastian.zimmermann",
        "Sebastian Zimmermann",
        "Produktion",
        false,
    ),
    ("tanja.krueger", "Tanja Krüger", "Logistik", false),
    ("ugur.demir", "Uğur Demir", "Produktion", false),
    ("vanessa.lange", "Vanessa Lange", "Vertrieb", false),
    ("wiebke.hartmann", "Wiebke Hartmann", "Personal", false),
    ("xaver.huber", "Xaver Huber", "Produktion", false),
    ("yusuf.arslan", "Yusuf Arslan", "Logistik", false),
    ("zoe.fischer", "Zoe Fischer", "IT", false),
    ("james.miller", "James Miller", "Vertrieb", false),
    ("sophie.martin", "Sophie Martin", "Geschäftsführung", false),
    ("tobias.schulz", "Tobias Schulz", "Produktion", false),
];

const DEPARTMENTS: &[(&str, &str)] = &[
    (
        "Produktion",
        "Schichtübergaben, Störungen, Wartung – Linie 1 bis 4",
    ),
    ("Logistik", "Wareneingang, Versand, Staplerplanung"),
    ("Vertrieb", "Angebote, Kundentermine, Messen / sales team"),
    ("IT", "Support, Systeme, Sicherheit"),
    ("Personal", "HR: Urlaub, Schulungen, Onboarding"),
];

/// Shift notes, stand-ups, support questions, small talk: German first,
/// English where an international colleague writes.
const PRODUCTION_LINES: &[&str] = &[
    "Schichtübergabe: Linie 2 läuft stabil, Presse 4 braucht um 14 Uhr Wartung.",
    "Hydraulikdruck an Presse 4 schwankt wieder, ich schaue mir das an.",
    "Danke! Ersatzdichtung liegt im Lager, Regal B3.",
    "Linie 1 steht seit 9:40 – Sensor am Förderband defekt. Techniker ist informiert.",
    "Läuft wieder, Sensor getauscht. Ausfall 35 Minuten.",
    "Bitte alle an die **Sicherheitsunterweisung** am Donnerstag denken!",
    "Wer kann morgen die Frühschicht von @hannes.koch übernehmen?",
    "Ich mache das 👍",
    "Qualitätsprüfung Charge 2411: alle Teile innerhalb der Toleranz.",
    "Die neue Prüfanweisung liegt im Intranet unter QS > Anweisungen.",
    "Kühlschmierstoff an Maschine 7 nachgefüllt.",
    "Materialengpass bei Blech 2 mm – Logistik ist dran.",
];

const LOGISTICS_LINES: &[&str] = &[
    "LKW von Spedition Maier kommt heute erst um 15 Uhr.",
    "Wareneingang: 12 Paletten Blech sind da, bitte einlagern.",
    "Stapler 3 ist in der Werkstatt, bis Freitag nur zwei Stapler.",
    "Versand nach Lyon ist raus, Lieferschein im System.",
    "Inventur am Samstag: bitte bis Mittwoch eintragen, wer kann.",
    "Tor 2 klemmt wieder – Hausmeister ist informiert.",
    "Die Kartons für Kunde Berger sind zu klein, neue sind bestellt.",
    "Danke fürs schnelle Umlagern! 🙏",
];

const SALES_LINES: &[&str] = &[
    "Angebot für Berger GmbH ist raus, Volumen ca. 120 T€.",
    "Customer visit from Leeds on Tuesday – who can give a plant tour?",
    "I can do the tour at 10:00, in English no problem.",
    "Messe Hannover: Standplan ist final, Aufbau ab Sonntag.",
    "Preisliste 2027 kommt nächste Woche von der Geschäftsführung.",
    "The Lyon order was confirmed, delivery in week 49.",
    "Reklamation Kunde Huber: bitte Rückruf bis Freitag.",
    "Great job on the Berger deal, everyone! 🎉",
];

const IT_LINES: &[&str] = &[
    "Wartungsfenster Samstag 6–8 Uhr: ERP ist dann nicht erreichbar.",
    "Phishing-Mail im Umlauf (\"Ihr Paket wartet\"). Bitte nicht klicken, an IT melden.",
    "Neue Drucker im Büro 2. OG sind eingerichtet.",
    "Password reset for the shop-floor terminals is done.",
    "VPN-Zertifikate laufen Ende des Monats ab, wir verteilen neue.",
    "Kontor ist jetzt auch auf den Hallen-Tablets installiert 🙂",
    "Can someone check why terminal T-12 keeps logging out?",
    "Erledigt: T-12 hatte die falsche Zeitzone.",
];

const HR_LINES: &[&str] = &[
    "Urlaubsplanung 2027: bitte bis 15.12. im Portal eintragen.",
    "Erste-Hilfe-Kurs am 4. Dezember, noch 3 Plätze frei.",
    "Willkommen an Bord, Tobias! Onboarding startet Montag um 8 Uhr.",
    "Reminder: the new parental leave policy is in the HR folder.",
    "Betriebsversammlung am Freitag um 13 Uhr in der Kantine.",
    "Die Gehaltsabrechnung kommt diesen Monat einen Tag früher.",
];

const GENERAL_LINES: &[&str] = &[
    "Willkommen in Kontor! Hier gibt es alle Neuigkeiten für das ganze Unternehmen.",
    "Die Weihnachtsfeier findet am 18. Dezember statt. Anmeldung bis 1.12.",
    "Neue Parkplatzregelung ab Januar: Plätze P1–P20 sind für Fahrgemeinschaften.",
    "Welcome to our new colleagues from the Leeds office!",
    "Der Betriebsrat lädt zur Sprechstunde am Mittwoch ein.",
    "Ab Montag gibt es in der Kantine auch vegane Gerichte 🌱",
];

const RANDOM_LINES: &[&str] = &[
    "Hat jemand einen Schlüsselbund am Parkplatz verloren?",
    "Kuchen in der Teeküche im 1. OG! 🍰",
    "Wer spielt beim Firmenlauf im Mai mit?",
    "Anyone up for football after work on Thursday?",
    "Ich bin dabei ⚽",
    "Die Kaffeemaschine im 2. OG ist repariert ☕",
    "Fundsache: blaue Jacke im Besprechungsraum Rhein.",
];

const DM_LINES: &[&str] = &[
    "Hast du kurz Zeit wegen der Wartungsplanung?",
    "Klar, ruf einfach an.",
    "Kannst du mir die Zahlen von letzter Woche schicken?",
    "Schicke ich dir gleich.",
    "Danke dir!",
    "Could you review the offer before I send it?",
    "Sure, give me 10 minutes.",
    "Sieht gut aus 👍",
];

/// A conversation to seed.
struct Room<'a> {
    kind: ConversationKind,
    name: Option<&'a str>,
    topic: &'a str,
    is_public: bool,
    announcement: bool,
}

fn channel<'a>(name: &'a str, topic: &'a str, is_public: bool, announcement: bool) -> Room<'a> {
    Room {
        kind: ConversationKind::Channel,
        name: Some(name),
        topic,
        is_public,
        announcement,
    }
}

fn group(name: &str) -> Room<'_> {
    Room {
        kind: ConversationKind::Group,
        name: Some(name),
        topic: "",
        is_public: false,
        announcement: false,
    }
}

const DIRECT: Room<'static> = Room {
    kind: ConversationKind::Direct,
    name: None,
    topic: "",
    is_public: false,
    announcement: false,
};

struct Seeder<'a> {
    state: &'a AppState,
    clock: &'a DemoClock,
    users: Vec<User>,
    sent: usize,
}

impl Seeder<'_> {
    fn user(&self, username: &str) -> ApiResult<&User> {
        self.users
            .iter()
            .find(|u| u.username == username)
            .ok_or_else(|| kontor_core::DomainError::NotFound("demo user").into())
    }

    fn actor(&self, i: usize) -> Actor {
        self.users[i % self.users.len()].actor()
    }

    async fn conversation(
        &self,
        owner: usize,
        room: Room<'_>,
        members: &[usize],
    ) -> ApiResult<ConversationId> {
        let actor = self.actor(owner);
        if let Some(name) = room.name {
            let mine = conversations::list(self.state, actor).await?;
            if let Some(c) = mine
                .iter()
                .find(|c| c.conversation.name.as_deref() == Some(name))
            {
                return Ok(c.conversation.id);
            }
        }
        let spec = ConversationSpec {
            kind: room.kind,
            name: room.name,
            topic: Some(room.topic),
            is_public: room.is_public,
            announcement: room.announcement,
            member_ids: members.iter().map(|i| self.users[*i].id).collect(),
        };
        Ok(conversations::create(self.state, actor, spec).await?.0.id)
    }

    /// Post `count` lines into `conv`, spread over the last week, cycling
    /// through `lines` and the given senders.
    async fn chat(
        &mut self,
        conv: ConversationId,
        key: &str,
        senders: &[usize],
        lines: &[&str],
        count: usize,
    ) -> ApiResult<()> {
        const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;
        for n in 0..count {
            let sender = senders[n % senders.len()];
            let text = lines[n % lines.len()];
            let offset = -WEEK_MS + (WEEK_MS * n as i64) / count as i64;
            self.clock.set_offset(offset);
            let mentions: Vec<UserId> = kontor_core::mention::parse(text)
                .usernames
                .iter()
                .filter_map(|u| self.user(u).ok().map(|u| u.id))
                .collect();
            let spec = MessageSpec {
                txn_id: &format!("demo-{key}-{n}"),
                text,
                thread_root_id: None,
                mentions,
                mentions_channel: false,
                attachment_ids: Vec::new(),
            };
            let out = messages::send(self.state, self.actor(sender), conv, spec).await?;
            if out.created {
                self.sent += 1;
            }
            if out.created && n % 5 == 1 && senders.len() > 1 {
                let reactor = self.actor(senders[(n + 1) % senders.len()]);
                messages::react(self.state, reactor, out.message.id, "👍", true).await?;
            }
            if n % 9 == 0 && senders.len() > 1 {
                let reply = MessageSpec {
                    txn_id: &format!("demo-{key}-{n}-reply"),
                    text: "Danke, erledigt. / Thanks, done.",
                    thread_root_id: Some(out.message.id),
                    mentions: vec![],
                    mentions_channel: false,
                    attachment_ids: Vec::new(),
                };
                let replied = messages::send(
                    self.state,
                    self.actor(senders[(n + 1) % senders.len()]),
                    conv,
                    reply,
                )
                .await?;
                if replied.created {
                    self.sent += 1;
                }
            }
        }
        self.clock.set_offset(0);
        Ok(())
    }
}

/// What the seeder made, for printing.
pub struct DemoSummary {
    /// Users, in seeding order.
    pub users: Vec<User>,
    /// Messages posted in this run (0 when everything existed).
    pub messages: usize,
}

/// Create the demo company unless it exists; fill in whatever is missing.
pub async fn seed(state: &AppState, clock: &DemoClock) -> ApiResult<DemoSummary> {
    let org = match accounts::org_by_name(state, DEMO_ORG).await? {
        Some(org) => org,
        None => accounts::create_org(state, DEMO_ORG).await?,
    };
    let mut users = Vec::with_capacity(PEOPLE.len());
    for (username, display, _, admin) in PEOPLE {
        let user = match accounts::user_by_login(state, username).await? {
            Some(u) => u,
            None => {
                let spec = UserSpec {
                    org_id: org.id,
                    username,
                    email: Some(&format!("{username}@muster-maschinenbau.example")),
                    display_name: display,
                    password: DEMO_PASSWORD,
                    org_role: if *admin {
                        OrgRole::Admin
                    } else {
                        OrgRole::Member
                    },
                };
                accounts::create_user(state, spec).await?
            }
        };
        users.push(user);
    }
    let mut s = Seeder {
        state,
        clock,
        users,
        sent: 0,
    };
    let everyone: Vec<usize> = (0..PEOPLE.len()).collect();
    let general = s
        .conversation(
            0,
            channel(
                "Ankündigungen",
                "Neuigkeiten für alle / company news",
                true,
                true,
            ),
            &everyone,
        )
        .await?;
    s.chat(general, "general", &[0], GENERAL_LINES, 12).await?;
    let random = s
        .conversation(
            5,
            channel("Kaffeeküche", "Off-topic, Fundsachen, Kuchen", true, false),
            &everyone,
        )
        .await?;
    s.chat(random, "random", &[3, 14, 7, 20, 11, 25], RANDOM_LINES, 28)
        .await?;
    let dept_lines: [&[&str]; 5] = [
        PRODUCTION_LINES,
        LOGISTICS_LINES,
        SALES_LINES,
        IT_LINES,
        HR_LINES,
    ];
    for ((dept, topic), lines) in DEPARTMENTS.iter().zip(dept_lines) {
        let members: Vec<usize> = PEOPLE
            .iter()
            .enumerate()
            .filter(|(_, p)| p.2 == *dept)
            .map(|(i, _)| i)
            .collect();
        let owner = members[0];
        let conv = s
            .conversation(owner, channel(dept, topic, false, false), &members)
            .await?;
        s.chat(conv, dept, &members, lines, 40).await?;
    }
    let team = s
        .conversation(1, group("Wartungsteam Presse 4"), &[3, 7, 11, 17])
        .await?;
    s.chat(team, "team", &[1, 3, 7, 11, 17], PRODUCTION_LINES, 24)
        .await?;
    let fair = s
        .conversation(6, group("Messe Hannover 2027"), &[8, 14, 20, 25])
        .await?;
    s.chat(fair, "fair", &[6, 8, 14, 20, 25], SALES_LINES, 16)
        .await?;
    for (a, b) in [(0, 1), (1, 3), (6, 14), (5, 9), (2, 12), (4, 10)] {
        let dm = s.conversation(a, DIRECT, &[b]).await?;
        s.chat(dm, &format!("dm-{a}-{b}"), &[a, b], DM_LINES, 8)
            .await?;
    }
    Ok(DemoSummary {
        users: s.users,
        messages: s.sent,
    })
}
