"""Customer search on the demo's own data: the store ``crmhub load -c config/demo.yaml`` builds (organisation
customers from the IBM i, Oracle AR and the SQL Server helpdesk), searched over HTTP by phone in any format,
e-mail in any case, and a contact person's name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.config import HubConfig
from hub.gateway.app import close_gateway_app, create_gateway_app
from hub.gateway.tokens import create_token
from pipelines.store.contacts import contact_keys, name_key
from pipelines.survivorship import Member, SurvivorshipConfig, survive
from pipelines.unify.engine import Unifier
from tests.demo_store import contact_row, demo_config, load_demo, send_contact
from tests.unify_helpers import golden_of, golden_row


@pytest.fixture
def cfg(tmp_path: Path) -> HubConfig:
    return demo_config(tmp_path)


@pytest.fixture
def unifier(cfg: HubConfig) -> Iterator[Unifier]:
    unifier = load_demo(cfg)
    yield unifier
    unifier.store.dispose()


@pytest.fixture
def client(cfg: HubConfig, unifier: Unifier) -> Iterator[TestClient]:
    app = create_gateway_app(cfg, unifier.store)
    yield TestClient(app, base_url="http://localhost")
    close_gateway_app(app)


@pytest.fixture
def token(cfg: HubConfig) -> str:
    return create_token(cfg.gateway.tokens_file, "crm-web", "agent", set(cfg.gateway.effective_roles()))


def found(client: TestClient, token: str, **params: Any) -> list[str]:
    response = client.get("/customers", params=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["results"])
    return [r["golden_id"] for r in body["results"]]


def golden(unifier: Unifier, source: str, key: str) -> str:
    gid = golden_of(unifier.store, source, key)
    assert gid is not None
    return gid


# --- phone and e-mail ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["+33144556677", "01 44 55 66 77", "0033 1 44-55-66-77", "+33 (1) 44.55.66.77",
                                   "144556677"])
def test_phone_in_any_format_finds_the_organisation(client: TestClient, token: str, unifier: Unifier,
                                                     phone: str) -> None:
    dupont = golden(unifier, "ar", "3002")
    assert golden(unifier, "helpdesk", "7002") == dupont
    assert found(client, token, phone=phone) == [dupont]


def test_phone_of_the_golden_record_finds_it(client: TestClient, token: str, unifier: Unifier) -> None:
    rossi = golden(unifier, "ar", "3003")
    [number] = [p["number"] for p in golden_row(unifier.store, rossi).data["phones"]]  # type: ignore[index]
    assert number == "+39028765432"
    assert found(client, token, phone=number) == [rossi]


@pytest.mark.parametrize("email", ["amministrazione@rossispa.it", "  Amministrazione@RossiSpa.IT  "])
def test_email_in_any_case_and_spacing_finds_the_organisation(client: TestClient, token: str, unifier: Unifier,
                                                              email: str) -> None:
    rossi = golden(unifier, "ar", "3003")
    assert golden(unifier, "ibmi", "104713") == rossi
    assert found(client, token, email=email) == [rossi]


def test_phone_and_email_together_score_both(client: TestClient, token: str, unifier: Unifier) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get("/customers", params={"phone": "+39 02 876 5432", "email": "amministrazione@rossispa.it"},
                      headers=headers).json()
    assert [r["golden_id"] for r in body["results"]] == [golden(unifier, "ar", "3003")]
    assert body["results"][0]["matched"] == ["email.agree", "phone.agree"]


def test_other_phone_or_email_finds_nothing(client: TestClient, token: str) -> None:
    assert found(client, token, phone="+33 1 44 55 66 78") == []
    assert found(client, token, phone="+33 1 44 55 66") == []  # the last nine digits differ
    assert found(client, token, email="amministrazione@rossispa.com") == []


def test_phone_without_enough_digits_or_email_without_at_is_422(client: TestClient, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for params in ({"phone": "12-34"}, {"email": "rossispa.it"}, {"name": "Anna Berger", "phone": "ext. 49"}):
        response = client.get("/customers", params=params, headers=headers)
        assert response.status_code == 422, params


# --- contact persons ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Anna Berger", "berger anna", "BERGER, Anna", "Änna Bérger", "Frau Anna Berger"])
def test_contact_name_in_either_order_case_and_accents(client: TestClient, token: str, unifier: Unifier,
                                                       name: str) -> None:
    mueller = golden(unifier, "helpdesk", "7001")
    assert golden(unifier, "ibmi", "104711") == mueller
    assert found(client, token, name=name) == [mueller]


def test_contact_with_a_two_word_family_name(client: TestClient, token: str, unifier: Unifier) -> None:
    janssen = golden(unifier, "helpdesk", "7005")
    assert found(client, token, name="Sanne de Vries") == [janssen]
    assert found(client, token, name="de Vries, Sanne") == [janssen]


def test_contact_is_on_the_golden_record(client: TestClient, token: str, unifier: Unifier) -> None:
    mueller = golden(unifier, "helpdesk", "7001")
    body = client.get(f"/customers/{mueller}", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["data"]["contacts"] == [{"type": "support", "given_name": "Anna", "family_name": "Berger"}]
    assert body["lineage"]["contacts[0]"]["source"] == "helpdesk"


def test_other_names_find_no_contact(client: TestClient, token: str) -> None:
    assert found(client, token, name="Anna Bergmann") == []
    assert found(client, token, name="Anna Moreau") == []  # given name of one contact, family name of another
    assert found(client, token, name="Hans Berger") == []


def test_contact_name_with_a_phone_scores_the_phone(client: TestClient, token: str, unifier: Unifier) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get("/customers", params={"name": "Anna Berger", "phone": "+49 89 1234567"}, headers=headers).json()
    assert [r["golden_id"] for r in body["results"]] == [golden(unifier, "helpdesk", "7001")]
    assert body["results"][0]["matched"] == ["contact.family.exact", "contact.given.exact", "phone.agree"]


def test_renamed_or_deleted_contact_follows_the_source(cfg: HubConfig, client: TestClient, token: str,
                                                       unifier: Unifier) -> None:
    mueller = golden(unifier, "helpdesk", "7001")
    send_contact(cfg, unifier, contact_row(7001, FirstName="Annette", LastName="Berger-Kraus"), 7001)
    assert found(client, token, name="Anna Berger") == []
    assert found(client, token, name="Annette Berger-Kraus") == [mueller]
    send_contact(cfg, unifier, None, 7001)
    assert found(client, token, name="Annette Berger-Kraus") == []


# --- the index keys -------------------------------------------------------------------------------------------------


def test_name_key_ignores_order_case_accents_punctuation_and_titles() -> None:
    assert name_key("Anna Berger") == name_key("BERGER, anna") == name_key("Dr. Änna Bérger") == "c:anna berger"
    assert name_key("Anna") is None
    assert name_key("Anna Bergmann") != name_key("Anna Berger")
    long = name_key("Anna " + "x" * 300)
    assert long is not None and len(long) <= 200


def test_contact_keys_of_a_customer() -> None:
    data = {"contacts": [{"given_name": "Anna Maria", "family_name": "Berger"},
                         {"given_name": "Luc", "family_name": None},  # half a name: not indexed
                         {"given_name": "anna maria", "family_name": "BERGER"}]}
    assert contact_keys(data) == ["c:anna berger maria", "c:anna berger"]
    assert contact_keys({"contacts": []}) == contact_keys(None) == []


def test_golden_record_keeps_every_members_contacts_once() -> None:
    anna = {"type": "support", "given_name": "Anna", "family_name": "Berger"}
    members = [Member("helpdesk", "7001", "Contacts", 200, 2, {"kind": "organisation", "contacts": [anna]}),
               Member("crm", "9", "PERSONS", 100, 1, {"kind": "organisation", "contacts": [
                   {"type": "main", "given_name": " anna ", "family_name": "BERGER"},
                   {"type": "accounts", "given_name": "Karl", "family_name": "Huber"}]})]
    data, lineage = survive(members, SurvivorshipConfig())
    assert data["contacts"] == [anna, {"type": "accounts", "given_name": "Karl", "family_name": "Huber"}]
    assert (lineage["contacts[0]"]["source"], lineage["contacts[1]"]["source"]) == ("helpdesk", "crm")
