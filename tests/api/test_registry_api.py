"""The registry API: works, the grant ledger, the check and the providers' feed with its ETag."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from members.models import Role
from members.registry.models import Grant
from members.registry.services import grant_issue
from tests.factories import MemberFactory, ProviderFactory, UserFactory, WorkFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def work(member):
    return WorkFactory(owner=member, title_ja="ねこまる", title_en="Nekomaru", location="/neko/*")


def test_a_member_registers_a_work_and_finds_it_by_title(legal_api):
    created = legal_api.post(
        "/api/v1/works/",
        {
            "kind": "character",
            "title_ja": "ねこまる",
            "title_en": "Nekomaru",
            "identifiers": [{"scheme": "jan", "value": "4901234567894"}],
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    assert created["Location"].endswith(f"/api/v1/works/{created.json()['id']}/")
    assert created.json()["identifiers"] == [{"scheme": "jan", "value": "4901234567894"}]
    assert [w["title_en"] for w in legal_api.get("/api/v1/works/", {"q": "NEKO"}).json()["results"]] == [
        "Nekomaru"
    ]
    assert legal_api.get("/api/v1/works/", {"q": "まる"}).json()["results"][0]["title_ja"] == "ねこまる"
    assert legal_api.get("/api/v1/works/", {"q": "absent"}).json()["results"] == []


def test_a_bad_identifier_is_a_400_naming_it(legal_api):
    response = legal_api.post(
        "/api/v1/works/",
        {"title_ja": "x", "identifiers": [{"scheme": "iswc", "value": "T-034.524.680-2"}]},
        format="json",
    )

    assert response.status_code == 400
    assert "identifiers.0" in response.json()["error"]["fields"]


def test_grants_are_issued_listed_and_revoked_by_appending(legal_api, provider, work):
    issued = legal_api.post(
        "/api/v1/grants/",
        {"provider": provider.slug, "use": "training", "work": work.pk, "terms": "Research."},
        format="json",
    )
    grant_id = issued.json()["id"]
    revoked = legal_api.post(f"/api/v1/grants/{grant_id}/revoke/", {"reason": "Ended."}, format="json")
    again = legal_api.post(f"/api/v1/grants/{grant_id}/revoke/", {"reason": "Again."}, format="json")
    listed = legal_api.get("/api/v1/grants/").json()["results"]

    assert issued.status_code == 201 and revoked.status_code == 201
    assert revoked.json()["revokes"] == grant_id
    assert again.status_code == 409
    assert [row["id"] for row in listed] == [revoked.json()["id"], grant_id]
    assert listed[1]["revoked_by"] == revoked.json()["id"]
    assert legal_api.get("/api/v1/grants/", {"use": "generation"}).json()["results"] == []


def test_an_all_works_grant_is_a_null_work(legal_api, provider):
    response = legal_api.post(
        "/api/v1/grants/", {"provider": provider.slug, "use": "generation"}, format="json"
    )

    assert response.status_code == 201
    assert (response.json()["work"], response.json()["all_works"]) == (None, True)


def test_the_check_answers_with_the_deciding_grant_or_no_grant(legal, agent_api, provider, work):
    grant = grant_issue(
        actor=legal,
        provider=provider,
        use="training",
        work=work,
        valid_from=timezone.now() - timedelta(days=1),
    )
    question = {"provider": provider.slug, "work": work.pk}

    permitted = agent_api.get("/api/v1/grants/check/", {**question, "use": "training"})
    denied = agent_api.get("/api/v1/grants/check", {**question, "use": "generation"})
    before = agent_api.get(
        "/api/v1/grants/check/", {**question, "use": "training", "at": "2020-01-01T00:00:00+09:00"}
    )

    assert permitted.status_code == 200
    assert (permitted.json()["permitted"], permitted.json()["grant"]["id"]) == (True, grant.pk)
    assert denied.json() | {"at": None} == {
        "permitted": False,
        "reason": "no grant: not permitted",
        "provider": provider.slug,
        "work": {"id": work.pk, "kind": "other", "title_ja": "ねこまる", "title_en": "Nekomaru"},
        "use": "generation",
        "at": None,
        "grant": None,
    }
    assert before.json()["permitted"] is False


def test_a_provider_checks_only_itself_and_a_member_only_its_own_works(
    api_client_for, agent_api, legal_api, provider, work
):
    other_provider = ProviderFactory()
    others_work = WorkFactory(owner=MemberFactory())

    assert (
        agent_api.get(
            "/api/v1/grants/check/", {"provider": other_provider.slug, "work": work.pk, "use": "training"}
        ).status_code
        == 404
    )
    assert (
        legal_api.get(
            "/api/v1/grants/check/", {"provider": other_provider.slug, "work": work.pk, "use": "training"}
        ).status_code
        == 200
    )
    assert (
        legal_api.get(
            "/api/v1/grants/check/", {"provider": provider.slug, "work": others_work.pk, "use": "training"}
        ).status_code
        == 404
    )
    assert (
        legal_api.get("/api/v1/grants/check/", {"provider": provider.slug, "work": work.pk}).status_code
        == 400
    )


def test_the_feed_lists_reservations_and_grants_and_answers_304_while_unchanged(
    legal, agent_api, provider, work, member
):
    grant_issue(actor=legal, provider=provider, use="training", work=work)
    grant_issue(actor=legal, provider=ProviderFactory(), use="training")  # to someone else

    first = agent_api.get("/api/v1/registry/feed/")
    etag = first["ETag"]
    unchanged = agent_api.get("/api/v1/registry/feed/", HTTP_IF_NONE_MATCH=etag)
    weak = agent_api.get("/api/v1/registry/feed/", HTTP_IF_NONE_MATCH=f'"other", W/{etag}')
    grant_issue(actor=legal, provider=provider, use="generation")
    after_grant = agent_api.get("/api/v1/registry/feed/", HTTP_IF_NONE_MATCH=etag)
    WorkFactory(owner=member)
    after_work = agent_api.get("/api/v1/registry/feed/", HTTP_IF_NONE_MATCH=after_grant["ETag"])

    assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')
    body = first.json()
    assert body["default"] == "reserved"
    assert [m["slug"] for m in body["members"]] == [member.slug]
    assert body["members"][0]["works"][0]["location"] == "/neko/*"
    assert [g["work"] for g in body["grants"]] == [work.pk]  # only the grants to this provider
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged["ETag"] == etag
    assert weak.status_code == 304
    assert after_grant.status_code == 200 and after_grant["ETag"] != etag
    assert after_work.status_code == 200


def test_the_feed_changes_its_etag_when_a_member_is_renamed(agent_api, member):
    """The feed shows members' slugs and names: a client holding the old ETag must not keep them."""
    before = agent_api.get("/api/v1/registry/feed/")["ETag"]
    again = agent_api.get("/api/v1/registry/feed/")["ETag"]
    member.name_en = "Renamed Studio"
    member.save(update_fields=["name_en"])

    after = agent_api.get("/api/v1/registry/feed/", HTTP_IF_NONE_MATCH=before)

    assert again == before
    assert after.status_code == 200 and after["ETag"] != before
    assert [m["name_en"] for m in after.json()["members"]] == ["Renamed Studio"]


def test_only_a_provider_has_a_feed(legal_api, api_client_for, analyst):
    assert legal_api.get("/api/v1/registry/feed/").status_code == 403
    assert api_client_for(analyst).get("/api/v1/registry/feed/").status_code == 403


def test_providers_and_the_association_cannot_write(api_client_for, agent, analyst, provider, work):
    for user in (agent, analyst):
        client = api_client_for(user)
        assert client.post("/api/v1/works/", {"title_ja": "x"}, format="json").status_code == 403
        assert (
            client.post(
                "/api/v1/grants/", {"provider": provider.slug, "use": "training"}, format="json"
            ).status_code
            == 403
        )
    assert Grant.objects.count() == 0


# --- Isolation --------------------------------------------------------------------------------


def test_another_organisations_work_and_grant_are_404_on_every_route(api_client_for, legal, provider, work):
    grant = grant_issue(actor=legal, provider=provider, use="training", work=work)
    outsiders = [
        UserFactory(role=Role.MEMBER_ADMIN),
        UserFactory(role=Role.MEMBER_LEGAL),
        UserFactory(role=Role.PROVIDER_ADMIN),
        UserFactory(role=Role.PROVIDER_AGENT),
    ]
    leaks = []
    for user in outsiders:
        client = api_client_for(user)
        for method, path, data in [
            ("get", f"/api/v1/works/{work.pk}/", None),
            ("get", f"/api/v1/grants/{grant.pk}/", None),
            ("post", f"/api/v1/grants/{grant.pk}/revoke/", {"reason": "Not yours."}),
        ]:
            response = getattr(client, method)(path, data, format="json") if data else client.get(path)
            if response.status_code != 404 or response.json()["error"]["code"] != "not_found":
                leaks.append((user.role, path, response.status_code))
        assert client.get("/api/v1/works/").json()["results"] == []
        assert client.get("/api/v1/grants/").json()["results"] == []

    assert leaks == []
    assert Grant.objects.count() == 1


def test_the_grantee_reads_the_grant_but_cannot_revoke_it(agent_api, legal, provider, work):
    grant = grant_issue(actor=legal, provider=provider, use="training", work=work)

    assert agent_api.get(f"/api/v1/grants/{grant.pk}/").status_code == 200
    assert (
        agent_api.post(f"/api/v1/grants/{grant.pk}/revoke/", {"reason": "No."}, format="json").status_code
        == 403
    )
    assert agent_api.get(f"/api/v1/works/{work.pk}/").status_code == 404


# --- Reference images ------------------------------------------------------------------------


def png(seed=0):
    from tests.members.test_registry_services import png_bytes

    return SimpleUploadedFile(f"neko-{seed}.png", png_bytes(seed))


def test_a_member_attaches_a_reference_image_and_downloads_it(legal_api, legal, work):
    created = legal_api.post(f"/api/v1/works/{work.pk}/images/", {"image": png()}, format="multipart")
    again = legal_api.post(f"/api/v1/works/{work.pk}/images/", {"image": png()}, format="multipart")
    listed = legal_api.get(f"/api/v1/works/{work.pk}/images/")

    assert created.status_code == 201, created.json()
    image = created.json()
    assert (image["content_type"], image["original_name"], image["uploaded_by"]["name"]) == (
        "image/png",
        "neko-0.png",
        str(legal),
    )
    assert again.status_code == 200 and again.json()["id"] == image["id"], "the same bytes: the same image"
    assert [i["id"] for i in listed.json()["results"]] == [image["id"]]
    assert created["Location"] == image["download_url"]
    download = legal_api.get(image["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    from tests.members.test_registry_services import png_bytes

    assert b"".join(download.streaming_content) == png_bytes(0)


def test_only_images_are_accepted_and_errors_name_the_field(legal_api, work):
    text = SimpleUploadedFile("notes.png", b"Just text, named like a picture.\n")

    refused = legal_api.post(f"/api/v1/works/{work.pk}/images/", {"image": text}, format="multipart")
    missing = legal_api.post(f"/api/v1/works/{work.pk}/images/", {}, format="multipart")
    unknown = legal_api.post(
        f"/api/v1/works/{work.pk}/images/", {"image": png(), "caption": "x"}, format="multipart"
    )

    assert refused.status_code == 400 and "image" in refused.json()["error"]["fields"]
    assert missing.status_code == 400 and "image" in missing.json()["error"]["fields"]
    assert unknown.status_code == 400 and "caption" in unknown.json()["error"]["fields"]
    assert legal_api.get(f"/api/v1/works/{work.pk}/images/").json()["results"] == []


def test_another_organisation_gets_404_and_the_association_may_only_look(
    api_client_for, legal_api, agent_api, work, analyst
):
    image_id = legal_api.post(
        f"/api/v1/works/{work.pk}/images/", {"image": png()}, format="multipart"
    ).json()["id"]
    other_member = api_client_for(UserFactory(role=Role.MEMBER_LEGAL, organisation=MemberFactory()))
    association = api_client_for(analyst)
    images, download = (
        f"/api/v1/works/{work.pk}/images/",
        f"/api/v1/works/{work.pk}/images/{image_id}/download/",
    )

    for outsider in (other_member, agent_api):
        assert outsider.get(images).status_code == 404
        assert outsider.post(images, {"image": png(1)}, format="multipart").status_code == 404
        assert outsider.get(download).status_code == 404
    assert association.get(images).status_code == 200
    assert association.get(download).status_code == 200
    assert association.post(images, {"image": png(2)}, format="multipart").status_code == 403
    assert legal_api.get(f"/api/v1/works/{work.pk}/images/999999/download/").status_code == 404
