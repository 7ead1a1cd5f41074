//! Who sees what: non-members, removed members, and reconnect-and-resume.

use crate::common;

use common::{
    TestServer, assert_none_before_marker, channel, direct, events, group, next, next_matching,
    text,
};
use kontor_client::kontor_wire::WireEvent;
use kontor_client::kontor_wire::requests::{CreateConversation, HistoryParams, UpdateConversation};

fn message_text(e: &WireEvent) -> Option<&str> {
    match e {
        WireEvent::MessageCreated { message } => message.text.as_deref(),
        _ => None,
    }
}

#[tokio::test]
async fn non_members_get_404_and_no_events() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (eve, _) = srv.client("eve").await;
    let group = group(&anna, "Vertraulich", &[bernd_user.id.0]).await;
    let (private, _) = anna
        .create_conversation(&CreateConversation {
            kind: "channel".into(),
            name: Some("Geschäftsführung".into()),
            is_public: false,
            ..Default::default()
        })
        .await
        .expect("private channel");
    let (secret, _) = anna
        .send(group.id, &text("Gehaltsrunde 2027"))
        .await
        .expect("send");
    let (mut eve_ev, _) = events(&eve).await;

    for id in [group.id, private.id] {
        assert_eq!(
            eve.conversation(id).await.expect_err("hidden").status(),
            Some(404)
        );
        assert_eq!(
            eve.members(id).await.expect_err("hidden").code(),
            Some("not_found")
        );
        let e = eve
            .history(id, &HistoryParams::default())
            .await
            .expect_err("hidden");
        assert_eq!(e.code(), Some("not_found"));
        assert_eq!(
            eve.send(id, &text("hallo?"))
                .await
                .expect_err("hidden")
                .code(),
            Some("not_found")
        );
        assert_eq!(
            eve.join(id).await.expect_err("private").code(),
            Some("not_found")
        );
        assert_eq!(
            eve.typing(id).await.expect_err("hidden").code(),
            Some("not_found")
        );
        assert_eq!(
            eve.mark_read(id, secret.id)
                .await
                .expect_err("hidden")
                .code(),
            Some("not_found")
        );
    }
    assert_eq!(
        eve.message(secret.id).await.expect_err("hidden").code(),
        Some("not_found")
    );
    assert_eq!(
        eve.react(secret.id, "👀", true)
            .await
            .expect_err("hidden")
            .code(),
        Some("not_found")
    );
    assert_eq!(
        eve.edit(
            secret.id,
            &kontor_client::kontor_wire::requests::EditMessage {
                text: "x".into(),
                ..Default::default()
            }
        )
        .await
        .expect_err("hidden")
        .code(),
        Some("not_found")
    );
    assert_eq!(
        eve.delete(secret.id).await.expect_err("hidden").code(),
        Some("not_found")
    );
    // A hidden conversation and one that does not exist look the same.
    assert_eq!(
        eve.conversation(9_999_999)
            .await
            .expect_err("absent")
            .code(),
        Some("not_found")
    );
    assert!(eve.conversations().await.expect("list").is_empty());
    assert!(
        eve.public_channels()
            .await
            .expect("channels")
            .iter()
            .all(|c| c.id != private.id)
    );

    // Activity in the hidden conversations reaches eve's socket never; the
    // marker (a DM to eve, sent last) proves everything before it was
    // delivered.
    anna.send(group.id, &text("nur für die Gruppe"))
        .await
        .expect("send");
    anna.send(private.id, &text("nur für den Kanal"))
        .await
        .expect("send");
    anna.react(secret.id, "🔥", true).await.expect("react");
    anna.typing(group.id).await.expect("typing");
    let dm = direct(&anna, srv.user("eve-helper").await.id.0).await;
    anna.send(dm.id, &text("auch nicht für eve"))
        .await
        .expect("send");
    let eve_dm = direct(&bernd, eve.me().await.expect("me").user.id).await;
    bernd
        .send(eve_dm.id, &text("marker"))
        .await
        .expect("marker");
    assert_none_before_marker(
        &mut eve_ev,
        |e| match e {
            WireEvent::MessageCreated { message } => message.conversation_id != eve_dm.id,
            WireEvent::ReactionChanged { .. } | WireEvent::Typing { .. } => true,
            WireEvent::ConversationCreated { conversation, .. } => conversation.id != eve_dm.id,
            _ => false,
        },
        |e| message_text(e) == Some("marker"),
    )
    .await;

    // Replaying the whole log to eve shows nothing of it either.
    let mut replay = eve.events(Some(0)).await.expect("resume");
    loop {
        let f = next(&mut replay).await;
        if let WireEvent::MessageCreated { message } = &f.event {
            assert_eq!(message.conversation_id, eve_dm.id, "leaked {message:?}");
        }
        if matches!(f.event, WireEvent::Resumed { .. }) {
            break;
        }
    }
}

#[tokio::test]
async fn removed_members_stop_receiving_at_once() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (carla, carla_user) = srv.client("carla").await;
    let group = group(&anna, "Projekt Nord", &[bernd_user.id.0, carla_user.id.0]).await;
    let (mut bernd_ev, _) = events(&bernd).await;
    anna.send(group.id, &text("vorher")).await.expect("send");
    let f = next_matching(&mut bernd_ev, |e| message_text(e).is_some()).await;
    assert_eq!(message_text(&f.event), Some("vorher"));

    // Members cannot remove each other; the owner can.
    let e = carla
        .remove_member(group.id, bernd_user.id.0)
        .await
        .expect_err("not an owner");
    assert_eq!(e.code(), Some("forbidden"));
    anna.remove_member(group.id, bernd_user.id.0)
        .await
        .expect("remove");
    let f = next_matching(&mut bernd_ev, |e| {
        matches!(e, WireEvent::MemberRemoved { .. })
    })
    .await;
    assert!(
        matches!(f.event, WireEvent::MemberRemoved { user_id, .. } if user_id == bernd_user.id.0)
    );

    // The very next message is not delivered to bernd; the marker is a DM.
    anna.send(group.id, &text("nachher")).await.expect("send");
    anna.update_conversation(
        group.id,
        &UpdateConversation {
            name: Some("Projekt Süd".into()),
            ..Default::default()
        },
    )
    .await
    .expect("rename");
    let dm = direct(&carla, bernd_user.id.0).await;
    carla.send(dm.id, &text("marker")).await.expect("marker");
    assert_none_before_marker(
        &mut bernd_ev,
        |e| match e {
            WireEvent::MessageCreated { message } => message.conversation_id == group.id,
            WireEvent::ConversationUpdated { conversation } => conversation.id == group.id,
            _ => false,
        },
        |e| message_text(e) == Some("marker"),
    )
    .await;
    assert_eq!(
        bernd
            .history(group.id, &HistoryParams::default())
            .await
            .expect_err("gone")
            .code(),
        Some("not_found")
    );
    assert_eq!(
        bernd
            .send(group.id, &text("darf ich?"))
            .await
            .expect_err("gone")
            .code(),
        Some("not_found")
    );
}

#[tokio::test]
async fn reconnect_resumes_exactly_the_missed_events_in_order() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (eve, _) = srv.client("eve").await;
    let dm = direct(&anna, bernd_user.id.0).await;
    let (mut s, _) = events(&bernd).await;
    anna.send(dm.id, &text("eins")).await.expect("send");
    let last = next_matching(&mut s, |e| message_text(e).is_some()).await;
    let last_seq = last.seq.expect("persisted events carry a position");
    s.close().await;

    // While bernd is away: messages to him interleaved with events he may not see.
    let other = channel(&eve, "Eves Kanal").await;
    let mut expected = Vec::new();
    for i in 0..20 {
        let (m, _) = anna
            .send(dm.id, &text(&format!("verpasst {i}")))
            .await
            .expect("send");
        expected.push(m.id);
        eve.send(other.id, &text(&format!("privat {i}")))
            .await
            .expect("send");
    }
    anna.react(expected[3], "👍", true).await.expect("react");

    let mut s = bernd.events(Some(last_seq)).await.expect("resume");
    let hello = next(&mut s).await;
    assert!(matches!(hello.event, WireEvent::Hello { .. }));
    let mut got = Vec::new();
    let mut seqs = Vec::new();
    let mut reactions = 0;
    let replayed = loop {
        let f = next(&mut s).await;
        if let Some(seq) = f.seq {
            seqs.push(seq);
        }
        match f.event {
            WireEvent::MessageCreated { message } => {
                assert_eq!(
                    message.conversation_id, dm.id,
                    "event of a conversation bernd is not in"
                );
                got.push(message.id);
            }
            WireEvent::ReactionChanged { .. } => reactions += 1,
            WireEvent::Resumed { replayed } => break replayed,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(got, expected, "exactly the missed messages, in order");
    assert_eq!(reactions, 1);
    assert_eq!(replayed, 21);
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "positions increase: {seqs:?}"
    );
    assert!(seqs.iter().all(|&q| q > last_seq));

    // After the replay, live delivery continues without a gap or duplicate.
    let (live, _) = anna.send(dm.id, &text("live")).await.expect("send");
    let f = next_matching(&mut s, |e| message_text(e).is_some()).await;
    assert!(matches!(f.event, WireEvent::MessageCreated { ref message } if message.id == live.id));
    assert!(f.seq.expect("seq") > *seqs.last().expect("some"));

    // A position from the future cannot be resumed from.
    let mut bad = common::resume_from(&bernd, i64::MAX / 2).await;
    let f = next(&mut bad).await;
    assert!(
        matches!(f.event, WireEvent::ResyncRequired { .. }),
        "{:?}",
        f.event
    );
}

#[tokio::test]
async fn unwanted_groups_are_paced_and_left_in_one_step() {
    let srv = TestServer::start().await;
    let (eve, eve_user) = srv.client("eve").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (anna, _) = srv.client("anna").await;
    let dm = direct(&eve, bernd_user.id.0).await;
    let mine = group(&bernd, "Bernds eigene", &[eve_user.id.0]).await;
    let by_anna = group(&anna, "Annas Gruppe", &[bernd_user.id.0]).await;
    // Eve puts Bernd into group after group, as fast as she can.
    let mut by_eve = Vec::new();
    let refused = loop {
        let req = CreateConversation {
            kind: "group".into(),
            name: Some(format!("Spam {}", by_eve.len())),
            user_ids: vec![bernd_user.id.0],
            ..Default::default()
        };
        match eve.create_conversation(&req).await {
            Ok((c, _)) => by_eve.push(c.id),
            Err(e) => break e,
        }
        assert!(by_eve.len() <= 100, "never paced");
    };
    assert_eq!(
        (refused.status(), refused.code()),
        (Some(429), Some("rate_limited"))
    );
    assert_eq!(by_eve.len(), 20, "a burst of 20 is allowed");
    // Another person is not held up by Eve's pace.
    group(&anna, "Annas zweite", &[bernd_user.id.0]).await;
    // One group Eve made but Bernd is now the last owner of: he stays, as
    // the last owner cannot leave while others remain.
    let owned = by_eve[0];
    eve.set_role(owned, bernd_user.id.0, "owner")
        .await
        .expect("owner");
    eve.set_role(owned, eve_user.id.0, "member")
        .await
        .expect("steps down");

    let done = bernd
        .leave_all_created_by(eve_user.id.0)
        .await
        .expect("leave in bulk");
    assert_eq!(done.kept, vec![owned]);
    assert_eq!(done.left, by_eve[1..].to_vec());
    let left: Vec<i64> = bernd
        .conversations()
        .await
        .expect("list")
        .iter()
        .map(|c| c.conversation.id)
        .collect();
    for id in &by_eve[1..] {
        assert!(!left.contains(id), "still in {id}");
    }
    for id in [dm.id, mine.id, by_anna.id, owned] {
        assert!(left.contains(&id), "left {id}, which was not Eve's group");
    }
    let own = bernd
        .leave_all_created_by(bernd_user.id.0)
        .await
        .expect_err("not oneself");
    assert_eq!(own.code(), Some("invalid_input"));
}

/// Re-sending a known txn_id answers what a fresh send would: a removed
/// member learns nothing of the message's current state (reactions,
/// replies), and the "used in another conversation" conflict answers only
/// where the sender may post.
#[tokio::test]
async fn a_retry_after_removal_answers_like_a_fresh_send() {
    let srv = TestServer::start().await;
    let (anna, anna_user) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let group = group(&anna, "Projekt Süd", &[bernd_user.id.0]).await;
    let (open, _) = anna
        .create_conversation(&CreateConversation {
            kind: "channel".into(),
            name: Some("Kantine".into()),
            is_public: true,
            ..Default::default()
        })
        .await
        .expect("public channel");
    bernd.join(open.id).await.expect("join");
    let in_group = text("Angebot folgt");
    let (sent, created) = bernd.send(group.id, &in_group).await.expect("send");
    assert!(created);
    let in_channel = text("Mittag?");
    bernd.send(open.id, &in_channel).await.expect("send");
    anna.react(sent.id, "👍", true).await.expect("react");
    let reply = kontor_client::kontor_wire::requests::SendMessage {
        thread_root_id: Some(sent.id),
        ..text("danke")
    };
    anna.send(group.id, &reply).await.expect("reply");

    // A member's retry gets the message as it is now.
    let (again, created) = bernd.send(group.id, &in_group).await.expect("retry");
    assert!(!created);
    assert_eq!((again.id, again.reply_count), (sent.id, 1));

    anna.remove_member(group.id, bernd_user.id.0)
        .await
        .expect("remove");
    anna.remove_member(open.id, bernd_user.id.0)
        .await
        .expect("remove");
    assert_eq!(
        bernd.message(sent.id).await.expect_err("hidden").code(),
        Some("not_found")
    );
    let cases = [
        // The group is invisible now: as for a fresh send, 404.
        (group.id, &in_group, "not_found"),
        // The public channel is visible, posting in it is not allowed.
        (open.id, &in_channel, "forbidden"),
        // The other conversation's txn_id: the permission answers first.
        (group.id, &in_channel, "not_found"),
        (open.id, &in_group, "forbidden"),
    ];
    for (conversation, req, want) in cases {
        let got = bernd.send(conversation, req).await;
        assert_eq!(
            got.as_ref().err().and_then(|e| e.code()),
            Some(want),
            "retry of {} in {conversation}: {got:?}",
            req.txn_id
        );
    }
    // Where bernd may post, a txn_id used elsewhere is still a conflict.
    let dm = direct(&bernd, anna_user.id.0).await;
    let e = bernd.send(dm.id, &in_group).await.expect_err("used");
    assert_eq!(e.code(), Some("conflict"));
}
