"""An integrator's first day, with the Python client generated from openapi/openapi.json
(openapi-python-client): a token, a new account, the list with paging and search, one
account, a partial update and a delete. Only the generated models and functions are
used, no hand-written bodies. Run by tests/tests/api/clients.rs with API_BASE,
API_USERNAME and API_PASSWORD set, and the generated package importable as um_client.
"""

import os

from um_client import AuthenticatedClient, Client
from um_client.api.auth import token
from um_client.api.users import create_user, delete_user, get_user, list_users, update_user
from um_client.models import (
    CreateUserRequest,
    LoginRequest,
    Role,
    TokenResponse,
    UpdateUserRequest,
    User,
    UserPage,
)

base = os.environ["API_BASE"]
anonymous = Client(base_url=base, raise_on_unexpected_status=True)
issued = token.sync(
    client=anonymous,
    body=LoginRequest(username=os.environ["API_USERNAME"], password=os.environ["API_PASSWORD"]),
)
# The token, or (202) the second factor this account does not have.
assert isinstance(issued, TokenResponse) and issued.token_type == "Bearer", issued
api = AuthenticatedClient(base_url=base, token=issued.access_token, raise_on_unexpected_status=True)

created = create_user.sync(
    client=api,
    body=CreateUserRequest(
        first_name="Grace",
        last_name="Hopper",
        username="grace",
        email="grace@example.com",
        mobile="+15550001906",
        password="compiler cobol nanosecond 1906",
        security_question="First computer?",
        security_answer="harvard mark one",
        role=Role.USER,
    ),
)
assert isinstance(created, User), created
assert (created.username, created.role) == ("grace", Role.USER), created

first = list_users.sync(client=api, page=1, per_page=1, sort="username")
assert isinstance(first, UserPage), first
assert first.total == 2 and len(first.items) == 1 and first.next_ is not None, first
second = list_users.sync(client=api, per_page=1, sort="username", cursor=first.next_)
assert [u.username for u in first.items + second.items] == ["admin", "grace"], second
found = list_users.sync(client=api, q="hopper")
assert [u.id for u in found.items] == [created.id], found

fetched = get_user.sync(client=api, id=created.id)
assert isinstance(fetched, User) and fetched.email == "grace@example.com", fetched

# Only the field that changes: everything else is left out of the body.
change = UpdateUserRequest(last_name="Murray Hopper")
assert change.to_dict() == {"last_name": "Murray Hopper"}, change.to_dict()
updated = update_user.sync(client=api, id=created.id, body=change)
assert isinstance(updated, User), updated
assert (updated.last_name, updated.first_name) == ("Murray Hopper", "Grace"), updated

gone = delete_user.sync_detailed(client=api, id=created.id)
assert gone.status_code == 204, gone
missing = get_user.sync_detailed(client=api, id=created.id)
assert missing.status_code == 404, missing
print("python client: ok")
