//! Live messaging flows between real clients over HTTP and WebSocket.

use crate::common;

use common::*;
use kontor_client::kontor_wire::WireEvent;
use kontor_client::kontor_wire::requests::*;

fn is_created(e: &WireEvent) -> bool {
    matches!(e, WireEvent::MessageCreated { .. })
}

#[tokio::test]
async fn direct_messages_arrive_live_on_both_sides() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (mut anna_ev, _) = events(&anna).await;
    let (mut bernd_ev, _) = events(&bernd).await;

    let req = CreateConversation {
        kind: "direct".into(),
        user_ids: vec![bernd_user.id.0],
        ..Default::default()
    };
    let (dm, created) = anna.create_conversation(&req).await.expect("dm");
    assert!(created);
    let (again, created_again) = anna.create_conversation(&req).await.expect("dm again");
    assert_eq!(
        (again.id, created_again),
        (dm.id, false),
        "a pair has one direct conversation"
    );

    let f = next(&mut bernd_ev).await;
    assert!(
        matches!(f.event, WireEvent::ConversationCreated { ref conversation, .. } if conversation.id == dm.id)
    );

    let (sent, _) = anna.send(dm.id, &text("Hallo Bernd!")).await.expect("send");
    for s in [&mut anna_ev, &mut bernd_ev] {
        let f = next_matching(s, is_created).await;
        let WireEvent::MessageCreated { message } = f.event else {
            unreachable!()
        };
        assert_eq!(message.id, sent.id);
        assert_eq!(message.text.as_deref(), Some("Hallo Bernd!"));
        assert!(f.seq.is_some(), "persisted events carry a position");
    }
    let (reply, _) = bernd.send(dm.id, &text("Hi Anna 👋")).await.expect("reply");
    let f = next_matching(&mut anna_ev, is_created).await;
    assert!(matches!(f.event, WireEvent::MessageCreated { ref message } if message.id == reply.id));

    let list = anna.conversations().await.expect("list");
    let entry = list
        .iter()
        .find(|c| c.conversation.id == dm.id)
        .expect("dm listed");
    assert_eq!(entry.unread_count, 1, "Bernd's reply is unread for Anna");
    assert_eq!(entry.peer_id, Some(bernd_user.id.0));
    assert_eq!(entry.last_message.as_ref().map(|m| m.id), Some(reply.id));
    anna.mark_read(dm.id, reply.id).await.expect("read");
    let f = next_matching(&mut anna_ev, |e| {
        matches!(e, WireEvent::ReadPositionChanged { .. })
    })
    .await;
    assert!(
        matches!(f.event, WireEvent::ReadPositionChanged { message_id, .. } if message_id == reply.id)
    );
    let list = anna.conversations().await.expect("list");
    assert_eq!(
        list.iter()
            .find(|c| c.conversation.id == dm.id)
            .map(|c| c.unread_count),
        Some(0)
    );
}

#[tokio::test]
async fn group_thread_reactions_edit_and_delete_are_seen_live() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (carla, carla_user) = srv.client("carla").await;
    let group = group(&anna, "Wartung", &[bernd_user.id.0, carla_user.id.0]).await;
    let (mut bernd_ev, _) = events(&bernd).await;
    let (mut carla_ev, _) = events(&carla).await;

    let root_req = SendMessage {
        mentions: vec![carla_user.id.0],
        ..text("Presse 4 braucht Wartung, @carla bitte prüfen")
    };
    let (root, _) = anna.send(group.id, &root_req).await.expect("root");
    assert_eq!(root.mentions, vec![carla_user.id.0]);
    let (reply, _) = bernd
        .send(
            group.id,
            &SendMessage {
                thread_root_id: Some(root.id),
                ..text("Mache ich")
            },
        )
        .await
        .expect("reply");
    assert_eq!(reply.thread_root_id, Some(root.id));
    let carla_list = carla.conversations().await.expect("list");
    let g = carla_list
        .iter()
        .find(|c| c.conversation.id == group.id)
        .expect("listed");
    // The root is unread; Bernd's reply is in the thread, which the
    // timeline's unread count leaves out.
    assert_eq!((g.unread_count, g.unread_mentions), (1, 1));
    // A reply to a reply lands in the root's thread, and posting marks the
    // conversation read for the poster.
    let (nested, _) = carla
        .send(
            group.id,
            &SendMessage {
                thread_root_id: Some(reply.id),
                ..text("Danke!")
            },
        )
        .await
        .expect("nested");
    assert_eq!(nested.thread_root_id, Some(root.id));
    let carla_list = carla.conversations().await.expect("list");
    let g = carla_list
        .iter()
        .find(|c| c.conversation.id == group.id)
        .expect("listed");
    assert_eq!((g.unread_count, g.unread_mentions), (0, 0));

    let timeline = anna
        .history(group.id, &HistoryParams::default())
        .await
        .expect("timeline");
    assert_eq!(
        timeline.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![root.id]
    );
    assert_eq!(timeline.messages[0].reply_count, 2);
    let thread = anna
        .history(
            group.id,
            &HistoryParams {
                thread: Some(root.id),
                ..Default::default()
            },
        )
        .await
        .expect("thread");
    assert_eq!(
        thread.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![reply.id, nested.id]
    );

    carla.react(root.id, "👍", true).await.expect("react");
    carla
        .react(root.id, "👍", true)
        .await
        .expect("react twice is fine");
    let f = next_matching(&mut bernd_ev, |e| {
        matches!(e, WireEvent::ReactionChanged { .. })
    })
    .await;
    assert!(
        matches!(f.event, WireEvent::ReactionChanged { ref emoji, added: true, message_id, .. } if emoji == "👍" && message_id == root.id)
    );
    let m = anna.message(root.id).await.expect("message");
    assert_eq!(m.reactions.len(), 1);
    assert_eq!(m.reactions[0].user_ids, vec![carla_user.id.0]);
    carla.react(root.id, "👍", false).await.expect("unreact");
    let f = next_matching(&mut bernd_ev, |e| {
        matches!(e, WireEvent::ReactionChanged { .. })
    })
    .await;
    assert!(matches!(
        f.event,
        WireEvent::ReactionChanged { added: false, .. }
    ));

    let edited = anna
        .edit(
            root.id,
            &EditMessage {
                text: "Presse 4: Wartung erledigt".into(),
                ..Default::default()
            },
        )
        .await
        .expect("edit");
    assert!(edited.edited && edited.edited_at.is_some());
    let f = next_matching(&mut carla_ev, |e| {
        matches!(e, WireEvent::MessageEdited { .. })
    })
    .await;
    assert!(
        matches!(f.event, WireEvent::MessageEdited { ref message } if message.text.as_deref() == Some("Presse 4: Wartung erledigt"))
    );

    let err = bernd
        .edit(
            root.id,
            &EditMessage {
                text: "hijack".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("only the author edits");
    assert_eq!(err.code(), Some("forbidden"));
    let err = bernd
        .delete(root.id)
        .await
        .expect_err("members do not delete others' messages");
    assert_eq!(err.code(), Some("forbidden"));

    anna.delete(root.id).await.expect("delete");
    let f = next_matching(&mut carla_ev, |e| {
        matches!(e, WireEvent::MessageDeleted { .. })
    })
    .await;
    assert!(
        matches!(f.event, WireEvent::MessageDeleted { message_id, .. } if message_id == root.id)
    );
    let gone = anna.message(root.id).await.expect("tombstone");
    assert!(
        gone.deleted
            && gone.text.is_none()
            && gone.mentions.is_empty()
            && gone.reactions.is_empty()
    );
}

#[tokio::test]
async fn deleted_and_edited_text_is_gone_from_storage_and_event_log() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let ch = channel(&anna, "Notizen").await;
    let (m1, _) = anna
        .send(ch.id, &text("geheimnis-alpha-123"))
        .await
        .expect("send");
    let (m2, _) = anna
        .send(ch.id, &text("entwurf-beta-456"))
        .await
        .expect("send");
    anna.react(m1.id, "🦄", true).await.expect("react");
    anna.delete(m1.id).await.expect("delete");
    anna.edit(
        m2.id,
        &EditMessage {
            text: "final".into(),
            ..Default::default()
        },
    )
    .await
    .expect("edit");
    // Resume from the start: the log holds no trace of either text.
    let mut s = anna.events(Some(0)).await.expect("resume");
    let mut frames = Vec::new();
    loop {
        let f = next(&mut s).await;
        let done = matches!(f.event, WireEvent::Resumed { .. });
        frames.push(serde_json::to_string(&f).expect("json"));
        if done {
            break;
        }
    }
    let all = frames.join("\n");
    assert!(all.contains("final"));
    assert!(
        !all.contains("🦄") && !all.contains("reaction_changed"),
        "reaction to a deleted message kept: {all}"
    );
    assert!(
        !all.contains("geheimnis-alpha-123") && !all.contains("entwurf-beta-456"),
        "{all}"
    );
    let dir = srv.stop().await;
    if let Some(url) = common::database::database_url_for(dir.path()) {
        for needle in ["geheimnis-alpha-123", "entwurf-beta-456"] {
            assert_eq!(
                common::database::rows_containing(&url, needle),
                0,
                "old text {needle} still in a PostgreSQL table"
            );
        }
        return;
    }
    let db = std::fs::read(dir.path().join("kontor.db")).expect("db");
    let wal = std::fs::read(dir.path().join("kontor.db-wal")).unwrap_or_default();
    for needle in [&b"geheimnis-alpha-123"[..], b"entwurf-beta-456"] {
        let found = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        assert!(!found(&db), "old text still in the database file");
        let _ = found(&wal); // the WAL is overwritten on checkpoint; the live tables are what we promise.
    }
}

#[tokio::test]
async fn channels_public_private_and_announcement() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (public, _) = anna
        .create_conversation(&CreateConversation {
            kind: "channel".into(),
            name: Some("Allgemein".into()),
            is_public: true,
            ..Default::default()
        })
        .await
        .expect("public channel");
    let (news, _) = anna
        .create_conversation(&CreateConversation {
            kind: "channel".into(),
            name: Some("Ankündigungen".into()),
            is_public: true,
            announcement: true,
            ..Default::default()
        })
        .await
        .expect("announcement channel");
    let listed = bernd.public_channels().await.expect("browse");
    assert_eq!(listed.len(), 2);
    // Non-members of a public channel may read but must join to post.
    anna.send(public.id, &text("Willkommen"))
        .await
        .expect("post");
    assert_eq!(
        bernd
            .history(public.id, &HistoryParams::default())
            .await
            .expect("read")
            .messages
            .len(),
        1
    );
    let err = bernd
        .send(public.id, &text("Hallo"))
        .await
        .expect_err("must join first");
    assert_eq!(err.code(), Some("forbidden"));
    let (mut bernd_ev, _) = events(&bernd).await;
    bernd.join(public.id).await.expect("join");
    next_matching(&mut bernd_ev, |e| {
        matches!(e, WireEvent::MemberAdded { .. })
    })
    .await;
    bernd
        .send(public.id, &text("Hallo"))
        .await
        .expect("member posts");
    next_matching(&mut bernd_ev, |e| {
        matches!(e, WireEvent::MessageCreated { .. })
    })
    .await;

    bernd.join(news.id).await.expect("join news");
    let err = bernd
        .send(news.id, &text("Darf ich?"))
        .await
        .expect_err("announcement");
    assert_eq!(err.code(), Some("forbidden"));
    anna.set_role(news.id, bernd_user.id.0, "moderator")
        .await
        .expect("promote");
    bernd
        .send(news.id, &text("Jetzt darf ich."))
        .await
        .expect("moderator posts");

    let updated = anna
        .update_conversation(
            public.id,
            &UpdateConversation {
                topic: Some("Alles für alle".into()),
                ..Default::default()
            },
        )
        .await
        .expect("topic");
    assert_eq!(updated.topic, "Alles für alle");
    let f = next_matching(&mut bernd_ev, |e| {
        matches!(e, WireEvent::ConversationUpdated { .. })
    })
    .await;
    assert!(
        matches!(f.event, WireEvent::ConversationUpdated { ref conversation } if conversation.topic == "Alles für alle")
    );
}

#[tokio::test]
async fn typing_is_live_and_ephemeral() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let dm = direct(&anna, bernd_user.id.0).await;
    let (mut anna_ev, _) = events(&anna).await;
    let (mut bernd_ev, _) = events(&bernd).await;
    bernd_ev.typing(dm.id).await.expect("typing frame");
    let f = next_matching(&mut anna_ev, |e| matches!(e, WireEvent::Typing { .. })).await;
    assert!(f.seq.is_none(), "typing is not persisted");
    assert!(
        matches!(f.event, WireEvent::Typing { user_id, conversation_id } if user_id == bernd_user.id.0 && conversation_id == dm.id)
    );
    anna.typing(dm.id).await.expect("typing over REST");
    next_matching(&mut bernd_ev, |e| matches!(e, WireEvent::Typing { .. })).await;
    let (carla, _) = srv.client("carla").await;
    assert_eq!(
        carla.typing(dm.id).await.expect_err("not a member").code(),
        Some("not_found")
    );
}

#[tokio::test]
async fn a_typing_flood_reaches_the_others_coalesced_and_closes_no_one() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let dm = direct(&anna, bernd_user.id.0).await;
    let (mut anna_ev, _) = events(&anna).await;
    let (mut bernd_ev, _) = events(&bernd).await;
    let started = std::time::Instant::now();
    // Far more than Bernd's socket queue (1,024 frames) holds.
    const FLOOD: usize = 20_000;
    for _ in 0..FLOOD {
        anna_ev.typing(dm.id).await.expect("typing frame");
    }
    for _ in 0..20 {
        anna.typing(dm.id)
            .await
            .expect("typing over REST is accepted");
    }
    let (sent, _) = anna
        .send(dm.id, &text("nach dem Sturm"))
        .await
        .expect("send");
    let mut typing = 0;
    loop {
        let f = next(&mut bernd_ev).await;
        match f.event {
            WireEvent::Typing { .. } => typing += 1,
            WireEvent::MessageCreated { ref message } if message.id == sent.id => break,
            _ => {}
        }
    }
    // One notice per two seconds of flooding passes on (plus the first).
    let allowed = 2 + started.elapsed().as_secs() / 2;
    assert!(
        typing >= 1 && typing as u64 <= allowed,
        "{typing} typing frames reached Bernd for {FLOOD} sent (at most {allowed})"
    );
}

#[tokio::test]
async fn retried_sends_with_the_same_txn_id_create_one_message() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let ch = channel(&anna, "x").await;
    let req = text("nur einmal");
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (a, r) = (anna.clone(), req.clone());
        handles.push(tokio::spawn(async move {
            a.send(ch.id, &r).await.expect("send")
        }));
    }
    let mut ids = Vec::new();
    let mut created = 0;
    for h in handles {
        let (m, c) = h.await.expect("join");
        ids.push(m.id);
        created += usize::from(c);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry got the same message");
    assert_eq!(created, 1, "exactly one request created it");
    let page = anna
        .history(ch.id, &HistoryParams::default())
        .await
        .expect("history");
    assert_eq!(page.messages.len(), 1);
}

#[tokio::test]
async fn history_pages_in_both_directions() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let ch = channel(&anna, "log").await;
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(
            anna.send(ch.id, &text(&format!("Nachricht {i}")))
                .await
                .expect("send")
                .0
                .id,
        );
    }
    let newest = anna
        .history(
            ch.id,
            &HistoryParams {
                limit: Some(10),
                ..Default::default()
            },
        )
        .await
        .expect("page");
    assert_eq!(
        newest.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids[15..].to_vec()
    );
    assert!(newest.has_more);
    let older = anna
        .history(
            ch.id,
            &HistoryParams {
                limit: Some(10),
                before: Some(ids[15]),
                ..Default::default()
            },
        )
        .await
        .expect("older");
    assert_eq!(
        older.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids[5..15].to_vec()
    );
    let oldest = anna
        .history(
            ch.id,
            &HistoryParams {
                limit: Some(10),
                before: Some(ids[5]),
                ..Default::default()
            },
        )
        .await
        .expect("oldest");
    assert_eq!(oldest.messages.len(), 5);
    assert!(!oldest.has_more);
    let newer = anna
        .history(
            ch.id,
            &HistoryParams {
                limit: Some(10),
                after: Some(ids[4]),
                ..Default::default()
            },
        )
        .await
        .expect("newer");
    assert_eq!(
        newer.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids[5..15].to_vec()
    );
    assert!(newer.has_more);
}

#[tokio::test]
async fn conversation_list_follows_activity_and_read_positions_stay_private() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (_, carla_user) = srv.client("carla").await;
    let first = group(&anna, "Erste", &[bernd_user.id.0]).await;
    let second = group(&anna, "Zweite", &[bernd_user.id.0, carla_user.id.0]).await;
    let third = direct(&anna, carla_user.id.0).await;
    let (m1, _) = anna.send(first.id, &text("eins")).await.expect("send");
    anna.send(second.id, &text("zwei")).await.expect("send");
    anna.send(third.id, &text("drei")).await.expect("send");
    let order = |list: &[kontor_client::kontor_wire::ConversationSummary]| {
        list.iter().map(|c| c.conversation.id).collect::<Vec<_>>()
    };
    let list = anna.conversations().await.expect("list");
    assert_eq!(order(&list), vec![third.id, second.id, first.id]);
    // New activity moves a conversation to the top.
    let (m2, _) = bernd
        .send(first.id, &text("wieder oben"))
        .await
        .expect("send");
    let list = anna.conversations().await.expect("list");
    assert_eq!(order(&list), vec![first.id, third.id, second.id]);
    assert_eq!(
        list[0]
            .last_message
            .as_ref()
            .and_then(|m| m.text.as_deref()),
        Some("wieder oben")
    );
    assert_eq!(list[0].unread_count, 1);

    // Anna's read position reaches her own devices, never bernd's.
    let (mut bernd_ev, _) = events(&bernd).await;
    let (mut anna_other_device, _) = events(&srv.login("anna").await).await;
    anna.mark_read(first.id, m2.id).await.expect("read");
    let f = next_matching(&mut anna_other_device, |e| {
        matches!(e, WireEvent::ReadPositionChanged { .. })
    })
    .await;
    assert!(
        matches!(f.event, WireEvent::ReadPositionChanged { message_id, .. } if message_id == m2.id)
    );
    // Moving the position backwards is ignored.
    anna.mark_read(first.id, m1.id)
        .await
        .expect("older position accepted and ignored");
    let list = anna.conversations().await.expect("list");
    assert_eq!(list[0].last_read_message_id, Some(m2.id));
    assert_eq!(list[0].unread_count, 0);
    anna.send(first.id, &text("marker")).await.expect("marker");
    assert_none_before_marker(
        &mut bernd_ev,
        |e| matches!(e, WireEvent::ReadPositionChanged { user_id, .. } if *user_id != bernd_user.id.0),
        |e| matches!(e, WireEvent::MessageCreated { message } if message.text.as_deref() == Some("marker")),
    )
    .await;
}

#[tokio::test]
async fn unread_counts_the_timeline_and_mentions_wherever_they_are() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let conv = group(&anna, "Lager", &[bernd_user.id.0]).await;
    let unread = |list: Vec<kontor_client::kontor_wire::ConversationSummary>| {
        let c = list
            .into_iter()
            .find(|c| c.conversation.id == conv.id)
            .expect("listed");
        (c.unread_count, c.unread_mentions)
    };
    let (root, _) = anna
        .send(conv.id, &text("Inventur am Freitag"))
        .await
        .expect("root");
    let reply = |t: &str, mentions: Vec<i64>, channel: bool| SendMessage {
        thread_root_id: Some(root.id),
        mentions,
        mentions_channel: channel,
        ..text(t)
    };
    for r in [
        reply("Ich zähle Regal A", vec![], false),
        reply("Regal B auch", vec![], false),
        reply("@bernd übernimmst du C?", vec![bernd_user.id.0], false),
        reply("@channel Treffpunkt Tor 2", vec![], true),
    ] {
        anna.send(conv.id, &r).await.expect("reply");
    }
    assert_eq!(
        unread(bernd.conversations().await.expect("list")),
        (1, 1),
        "one timeline message; the personal mention in the thread counts"
    );
    let everyone = SendMessage {
        mentions_channel: true,
        mentions: vec![bernd_user.id.0],
        ..text("@channel @bernd bitte alle kommen")
    };
    anna.send(conv.id, &everyone)
        .await
        .expect("channel mention");
    assert_eq!(
        unread(bernd.conversations().await.expect("list")),
        (2, 2),
        "a message mentioning both Bernd and everyone counts once"
    );
}
