//! Presence: who is online, for those who chose to show it, and for nobody
//! else. Off unless the operator turns it on; off for each person until
//! they turn it on; reciprocal; never across organisations; bounded.

use crate::common;

use common::{
    EVENT_WAIT, PASSWORD, TestServer, assert_none_before_marker, events, next, next_matching,
};
use kontor_client::kontor_wire::WireEvent;
use kontor_client::{Client, EventStream};
use kontor_core::model::OrgRole;
use kontor_server::service::accounts::{self, UserSpec};

async fn with_presence() -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    TestServer::start_configured(dir, |c| c.presence.enabled = true).await
}

/// Show or hide, and wait until this node's hub has applied the change:
/// on PostgreSQL the hub learns of committed events from the shared log, a
/// moment after the write was acknowledged.
async fn share(srv: &TestServer, client: &Client, share: bool) {
    common::share_presence(client, share).await;
    let head = srv.state.store.head().await.expect("head");
    assert!(
        srv.state.hub.caught_up(head, EVENT_WAIT).await,
        "the hub did not reach position {head:?}"
    );
}

/// The next `presence` frame, as (online, offline).
async fn presence(s: &mut EventStream) -> (Vec<i64>, Vec<i64>) {
    match next_matching(s, |e| matches!(e, WireEvent::Presence { .. }))
        .await
        .event
    {
        WireEvent::Presence { online, offline } => (online, offline),
        _ => unreachable!("matched above"),
    }
}

fn mentions(e: &WireEvent, user: i64) -> bool {
    matches!(e, WireEvent::Presence { online, offline } if online.contains(&user) || offline.contains(&user))
}

#[tokio::test]
async fn presence_is_off_unless_the_operator_turns_it_on() {
    let srv = TestServer::start().await;
    let (anna, anna_user) = srv.client("anna").await;
    let (bob, _) = srv.client("bob").await;
    let me = anna.me().await.expect("me");
    assert!(!me.presence_available);
    assert!(!me.share_presence, "nobody shows presence by default");
    share(&srv, &anna, true).await;
    share(&srv, &bob, true).await;
    let (_anna_ev, _) = events(&anna).await;
    let (mut bob_ev, _) = events(&bob).await;
    bob_ev
        .watch_presence(&[anna_user.id.0])
        .await
        .expect("watch");
    assert_eq!(
        presence(&mut bob_ev).await,
        (vec![], vec![anna_user.id.0]),
        "with presence off, everyone is offline"
    );
}

#[tokio::test]
async fn people_who_show_presence_come_and_go_for_those_watching() {
    let srv = with_presence().await;
    let (anna, anna_user) = srv.client("anna").await;
    let (bob, _) = srv.client("bob").await;
    let (carla, carla_user) = srv.client("carla").await;
    let me = bob.me().await.expect("me");
    assert!(me.presence_available);
    assert!(!me.share_presence);
    share(&srv, &anna, true).await;
    share(&srv, &bob, true).await;
    let anna_id = anna_user.id.0;
    let carla_id = carla_user.id.0;

    let (mut bob_ev, _) = events(&bob).await;
    bob_ev
        .watch_presence(&[carla_id, anna_id, 999_999, anna_id])
        .await
        .expect("watch");
    let (online, mut offline) = presence(&mut bob_ev).await;
    offline.sort_unstable();
    assert!(online.is_empty());
    assert_eq!(
        offline,
        vec![anna_id, carla_id, 999_999],
        "the answer lists everyone watched once; unknown ids are just offline"
    );

    let (first, _) = events(&anna).await;
    assert_eq!(presence(&mut bob_ev).await, (vec![anna_id], vec![]));
    let (second, _) = events(&anna).await;
    first.close().await;
    // Carla does not show her presence: her socket tells Bob nothing.
    let (carla_ev, _) = events(&carla).await;
    second.close().await;
    let f = next_matching(&mut bob_ev, |e| matches!(e, WireEvent::Presence { .. })).await;
    assert!(
        matches!(&f.event, WireEvent::Presence { online, offline } if online.is_empty() && offline == &vec![anna_id]),
        "Anna goes offline only with her last socket, and nothing came between: {:?}",
        f.event
    );
    carla_ev.close().await;

    // Watching someone else instead: Anna's comings no longer reach Bob.
    bob_ev.watch_presence(&[carla_id]).await.expect("watch");
    assert_eq!(presence(&mut bob_ev).await, (vec![], vec![carla_id]));
    let (_anna_again, _) = events(&anna).await;
    bob_ev.watch_presence(&[anna_id]).await.expect("watch");
    assert_none_before_marker(
        &mut bob_ev,
        |e| matches!(e, WireEvent::Presence { online, offline } if online.is_empty() && offline == &vec![anna_id]),
        |e| matches!(e, WireEvent::Presence { online, .. } if online == &vec![anna_id]),
    )
    .await;
}

#[tokio::test]
async fn hiding_presence_hides_it_at_once_and_hides_others_from_you() {
    let srv = with_presence().await;
    let (anna, anna_user) = srv.client("anna").await;
    let (bob, bob_user) = srv.client("bob").await;
    share(&srv, &anna, true).await;
    share(&srv, &bob, true).await;
    let anna_id = anna_user.id.0;
    let (mut anna_ev, _) = events(&anna).await;
    let (mut bob_ev, _) = events(&bob).await;
    bob_ev.watch_presence(&[anna_id]).await.expect("watch");
    assert_eq!(presence(&mut bob_ev).await, (vec![anna_id], vec![]));
    anna_ev
        .watch_presence(&[bob_user.id.0])
        .await
        .expect("watch");
    assert_eq!(presence(&mut anna_ev).await, (vec![bob_user.id.0], vec![]));

    // Anna hides: Bob sees her go offline while her socket stays open, and
    // her other devices learn of her choice; she no longer sees Bob.
    share(&srv, &anna, false).await;
    assert_eq!(presence(&mut bob_ev).await, (vec![], vec![anna_id]));
    let f = next_matching(&mut anna_ev, |e| {
        matches!(e, WireEvent::PresenceSharingChanged { .. })
    })
    .await;
    assert!(f.seq.is_some(), "the choice is a logged event");
    assert!(matches!(
        f.event,
        WireEvent::PresenceSharingChanged {
            share_presence: false
        }
    ));
    assert_eq!(
        presence(&mut anna_ev).await,
        (vec![], vec![bob_user.id.0]),
        "who hides their own presence sees nobody's"
    );

    // Saying it twice changes nothing and logs nothing.
    share(&srv, &anna, false).await;
    share(&srv, &anna, true).await;
    let f = next(&mut anna_ev).await;
    assert!(
        matches!(
            f.event,
            WireEvent::PresenceSharingChanged {
                share_presence: true
            }
        ),
        "the repeated 'hide' left no event: {:?}",
        f.event
    );
    assert_eq!(presence(&mut anna_ev).await, (vec![bob_user.id.0], vec![]));
    assert_eq!(presence(&mut bob_ev).await, (vec![anna_id], vec![]));

    // The choice survives a restart.
    let dir = srv.stop().await;
    let srv = TestServer::start_configured(dir, |c| c.presence.enabled = true).await;
    let anna = srv.login("anna").await;
    assert!(anna.me().await.expect("me").share_presence);
}

#[tokio::test]
async fn other_organisations_never_see_presence() {
    let srv = with_presence().await;
    let (anna, anna_user) = srv.client("anna").await;
    share(&srv, &anna, true).await;
    let other = accounts::create_org(&srv.state, "Andere AG")
        .await
        .expect("org");
    accounts::create_user(
        &srv.state,
        UserSpec {
            org_id: other.id,
            username: "eve",
            email: None,
            display_name: "Eve Extern",
            password: PASSWORD,
            org_role: OrgRole::Member,
        },
    )
    .await
    .expect("user");
    let eve = srv.login("eve").await;
    share(&srv, &eve, true).await;
    let (bob, _) = srv.client("bob").await;
    share(&srv, &bob, true).await;
    let (anna_ev, _) = events(&anna).await;

    let (mut eve_ev, _) = events(&eve).await;
    eve_ev
        .watch_presence(&[anna_user.id.0])
        .await
        .expect("watch");
    assert_eq!(presence(&mut eve_ev).await, (vec![], vec![anna_user.id.0]));
    // Anna's second socket closing and a colleague's watch are no news to Eve.
    let (anna_second, _) = events(&anna).await;
    anna_second.close().await;
    let (mut bob_ev, _) = events(&bob).await;
    bob_ev
        .watch_presence(&[anna_user.id.0])
        .await
        .expect("watch");
    assert_eq!(presence(&mut bob_ev).await, (vec![anna_user.id.0], vec![]));
    // Not even the moment Anna goes offline reaches Eve: it would tell her
    // that Anna had been online.
    anna_ev.close().await;
    assert_eq!(
        presence(&mut bob_ev).await,
        (vec![], vec![anna_user.id.0]),
        "Bob, her colleague, sees her go"
    );
    let marker = 424_242;
    eve_ev
        .watch_presence(&[anna_user.id.0, marker])
        .await
        .expect("watch");
    assert_none_before_marker(
        &mut eve_ev,
        |e| mentions(e, anna_user.id.0) && !mentions(e, marker),
        |e| mentions(e, marker),
    )
    .await;
}

#[tokio::test]
async fn watch_lists_and_settings_are_bounded_and_checked() {
    let srv = with_presence().await;
    let (anna, anna_user) = srv.client("anna").await;
    share(&srv, &anna, true).await;
    let (mut ev, _) = events(&anna).await;
    ev.watch_presence(&[anna_user.id.0]).await.expect("watch");
    assert_eq!(presence(&mut ev).await, (vec![anna_user.id.0], vec![]));
    let too_many: Vec<i64> = (1..=501).collect();
    ev.watch_presence(&too_many).await.expect("frame written");
    let f = next(&mut ev).await;
    assert!(
        matches!(&f.event, WireEvent::Error { code, .. } if code == "too_many_watched"),
        "{:?}",
        f.event
    );
    // 500 distinct ids (with repeats) are fine, and replace the old list.
    let mut fine: Vec<i64> = (1_000..1_500).collect();
    fine.extend(1_000..1_100);
    ev.watch_presence(&fine).await.expect("watch");
    let (online, offline) = presence(&mut ev).await;
    assert!(online.is_empty());
    assert_eq!(offline.len(), 500);

    // Three watch frames so far; 30 a minute are answered, the 31st is not.
    for _ in 3..30 {
        ev.watch_presence(&[anna_user.id.0]).await.expect("watch");
        assert_eq!(presence(&mut ev).await, (vec![anna_user.id.0], vec![]));
    }
    ev.watch_presence(&[]).await.expect("frame written");
    let f = next(&mut ev).await;
    assert!(
        matches!(&f.event, WireEvent::Error { code, .. } if code == "rate_limited"),
        "{:?}",
        f.event
    );

    let http = reqwest::Client::new();
    let token = anna.token().expect("token").to_owned();
    for body in [
        r#"{"share_presence": "ja"}"#,
        r#"{"show_online": true}"#,
        r#""ja""#,
    ] {
        let r = http
            .patch(format!("{}/api/v1/me", srv.url))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        assert!(
            matches!(r.status().as_u16(), 400 | 422),
            "{body}: {}",
            r.status()
        );
        let v: serde_json::Value = r.json().await.expect("json");
        assert!(v["error"]["code"].is_string(), "{v}");
    }
    assert!(
        anna.me().await.expect("me").share_presence,
        "bad requests changed nothing"
    );
}
