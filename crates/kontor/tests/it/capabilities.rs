//! The capabilities `GET /conversations/{id}` reports are what the server
//! then allows: for each person in a public announcement channel and in a
//! group, every capability is tried against the real API and must succeed
//! exactly when it was reported.

use kontor_client::Client;
use kontor_client::kontor_wire::Capabilities;
use kontor_client::kontor_wire::requests::{CreateConversation, UpdateConversation};

use crate::common::matrix::Matrix;
use crate::common::{self, TestServer, text};

/// The conversation under test and the people the actions need.
struct Room<'a> {
    id: i64,
    /// Posts the message each person then tries to delete.
    owner: &'a Client,
    owner_id: i64,
    /// Someone outside the conversation to add and remove again.
    spare: i64,
}

/// Try every capability `who` was told about in `room`, in an order that
/// leaves the conversation as it was for the next person.
async fn try_all(m: &mut Matrix, who: &str, c: &Client, me: i64, room: &Room<'_>) {
    let id = room.id;
    let detail = c.conversation(id).await.expect("detail");
    let caps: Capabilities = detail.capabilities;
    m.row(who, "post", caps.post, &c.send(id, &text("Hallo")).await);
    let topic = UpdateConversation {
        topic: Some(format!("Thema von {who}")),
        ..Default::default()
    };
    m.row(
        who,
        "update_settings",
        caps.update_settings,
        &c.update_conversation(id, &topic).await,
    );
    let announcement = UpdateConversation {
        announcement: Some(true),
        ..Default::default()
    };
    m.row(
        who,
        "change_announcement_mode",
        caps.change_announcement_mode,
        &c.update_conversation(id, &announcement).await,
    );
    let added = c.add_members(id, &[room.spare]).await;
    m.row(who, "manage_members", caps.manage_members, &added);
    if added.is_ok() {
        c.remove_member(id, room.spare).await.expect("remove again");
    }
    // Setting the owner's role to what it is changes nothing but is checked.
    m.row(
        who,
        "change_roles",
        caps.change_roles,
        &c.set_role(id, room.owner_id, "owner").await,
    );
    let (theirs, _) = room
        .owner
        .send(id, &text("Bitte nicht löschen"))
        .await
        .expect("owner posts");
    m.row(
        who,
        "delete_any_message",
        caps.delete_any_message || me == room.owner_id,
        &c.delete(theirs.id).await,
    );
    // Joining again is a no-op for members; only outsiders try.
    if detail.role.is_none() {
        let joined = c.join(id).await;
        m.row(who, "join", caps.join, &joined);
        if joined.is_ok() {
            c.remove_member(id, me).await.expect("leave again");
        }
    }
}

#[tokio::test]
async fn reported_capabilities_are_exactly_what_the_server_allows() {
    let srv = TestServer::start().await;
    let (anna, anna_user) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (carla, carla_user) = srv.client("carla").await;
    let (dora, dora_user) = srv.client("dora").await;
    let spare = srv.user("erik").await.id.0;

    let channel = anna
        .create_conversation(&CreateConversation {
            kind: "channel".into(),
            name: Some("Durchsagen".into()),
            is_public: true,
            announcement: true,
            user_ids: vec![bernd_user.id.0, carla_user.id.0],
            ..Default::default()
        })
        .await
        .expect("channel")
        .0
        .id;
    anna.set_role(channel, carla_user.id.0, "moderator")
        .await
        .expect("moderator");
    let group = common::group(&anna, "Kaffeerunde", &[bernd_user.id.0])
        .await
        .id;

    let mut m = Matrix::default();
    let room = |id| Room {
        id,
        owner: &anna,
        owner_id: anna_user.id.0,
        spare,
    };
    for (who, client, me) in [
        ("channel member", &bernd, bernd_user.id.0),
        ("channel moderator", &carla, carla_user.id.0),
        ("channel owner", &anna, anna_user.id.0),
        ("channel visitor", &dora, dora_user.id.0),
    ] {
        try_all(&mut m, who, client, me, &room(channel)).await;
    }
    for (who, client, me) in [
        ("group member", &bernd, bernd_user.id.0),
        ("group owner", &anna, anna_user.id.0),
    ] {
        try_all(&mut m, who, client, me, &room(group)).await;
    }
    m.check(37);

    // The rows above could pass if every capability said "no" and the
    // server refused everything: make sure both answers occur.
    let member = bernd
        .conversation(channel)
        .await
        .expect("detail")
        .capabilities;
    let owner = anna
        .conversation(channel)
        .await
        .expect("detail")
        .capabilities;
    assert!(!member.post && member.leave, "{member:?}");
    assert!(
        owner.post && owner.change_announcement_mode && owner.change_roles,
        "{owner:?}"
    );
    let visitor = dora
        .conversation(channel)
        .await
        .expect("detail")
        .capabilities;
    assert!(
        visitor.join && !visitor.leave && !visitor.post,
        "{visitor:?}"
    );
}
