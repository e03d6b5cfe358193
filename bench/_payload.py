"""A full CustomerAuthTicket as a server sends it.

The account has 2 contacts, 3 attributes, notes and segments.
"""

from __future__ import annotations

import json
from typing import Any

_AUDIT = {
    "updateDate": "2024-05-02T10:11:12.345Z",
    "createDate": "2021-01-03T08:00:00Z",
    "updateBy": "a1b2c3d4e5f6",
    "createBy": "f6e5d4c3b2a1",
}


def _contact(index: int) -> dict[str, Any]:
    return {
        "accountId": 1001,
        "types": [
            {"name": "Billing", "isPrimary": index == 0},
            {"name": "Shipping", "isPrimary": False},
        ],
        "auditInfo": _AUDIT,
        "faxNumber": None,
        "label": f"Contact {index}",
        "id": 500 + index,
        "email": f"shopper{index}@example.com",
        "firstName": "Ada",
        "middleNameOrInitial": "B",
        "lastNameOrSurname": "Lovelace",
        "companyOrOrganization": "Analytical Engines Ltd",
        "phoneNumbers": {"home": "555-0100", "mobile": "555-0101", "work": None},
        "address": {
            "address1": f"{index + 1} Main Street",
            "address2": "Suite 200",
            "address3": None,
            "address4": None,
            "cityOrTown": "Austin",
            "stateOrProvince": "TX",
            "postalOrZipCode": "78701",
            "countryCode": "US",
            "addressType": "Residential",
            "isValidated": True,
        },
    }


def ticket(refresh_token: str = "r" * 43) -> dict[str, Any]:
    return {
        "customerAccount": {
            "id": 1001,
            "customerSet": "default",
            "commerceSummary": {
                "totalOrderAmount": {"currencyCode": "USD", "amount": 1234.56},
                "orderCount": 12,
                "lastOrderDate": "2024-04-30T16:20:00Z",
                "wishlistCount": 2,
                "visitsCount": 87,
            },
            "contacts": [_contact(0), _contact(1)],
            "companyOrOrganization": "Analytical Engines Ltd",
            "notes": [
                {"id": 1, "content": "Prefers email.", "auditInfo": _AUDIT},
                {"id": 2, "content": "VIP since 2022.", "auditInfo": _AUDIT},
            ],
            "attributes": [
                {
                    "auditInfo": _AUDIT,
                    "fullyQualifiedName": f"tenant~attribute-{i}",
                    "attributeDefinitionId": 10 + i,
                    "values": [f"value-{i}", i],
                }
                for i in range(3)
            ],
            "segments": [
                {
                    "id": 7,
                    "code": "VIP",
                    "name": "VIP",
                    "description": "Best customers",
                    "auditInfo": _AUDIT,
                },
                {
                    "id": 8,
                    "code": "B2C",
                    "name": "Retail",
                    "description": None,
                    "auditInfo": _AUDIT,
                },
            ],
            "taxExempt": False,
            "taxId": None,
            "externalId": "ext-1001",
            "auditInfo": _AUDIT,
            "customerSinceDate": "2021-01-03T08:00:00Z",
            "accountType": "B2C",
            "migrationRequired": False,
            "emailAddress": "shopper0@example.com",
            "userName": "shopper0@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "localeCode": "en-US",
            "userId": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "isAnonymous": False,
            "isLocked": False,
            "isActive": True,
            "acceptsMarketing": True,
            "hasExternalPassword": False,
            "last2FaDate": None,
        },
        "accessToken": "a" * 200,
        "accessTokenExpiration": "2030-01-01T00:30:00Z",
        "refreshToken": refresh_token,
        "refreshTokenExpiration": "2030-01-08T00:00:00Z",
        "userId": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "jwtAccessToken": "eyJ" + "j" * 300,
        "requires2FA": False,
    }


def ticket_bytes() -> bytes:
    return json.dumps(ticket(), separators=(",", ":")).encode()
