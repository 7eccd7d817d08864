from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kesu.api.keys import create_key, find_key, revoke_key
from kesu.api.models import ApiKey
from kesu.org.models import User


class Command(BaseCommand):
    help = (
        "管理接口密钥。Integration keys for the REST API: create (prints the key once; only its hash is "
        "kept), list, revoke. A key acts as its user, limited to --office codes and a --scope."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = sub.add_parser("create", help="make a key for a user and print it once")
        create.add_argument("--user", required=True, help="the username the key acts as")
        create.add_argument(
            "--office",
            action="extend",
            nargs="+",
            default=[],
            metavar="CODE",
            help="limit the key to these offices (--office Y01 Y02, or repeated; default: all the user's)",
        )
        create.add_argument(
            "--scope", choices=["read", "write"], default="write", help="read: GET only (default: write)"
        )
        create.add_argument("--name", default="", help="what the key is for, e.g. the call-centre system")
        lst = sub.add_parser("list", help="list keys (never the keys themselves)")
        lst.add_argument("--user", help="only this user's keys")
        lst.add_argument("--all", action="store_true", help="include revoked keys")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix (as `list` shows it) or id")
        revoke.add_argument("key", help="prefix such as kesu_Ab12Cd34, or the id")

    def handle(self, *args, **options):
        return getattr(self, f"_{options['action']}")(options)

    def _create(self, options) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no such user: {options['user']}")
        try:
            key, raw = create_key(
                user, offices=options["office"], scope=options["scope"], name=options["name"]
            )
        except ValidationError as e:
            raise CommandError("; ".join(f"{k}: {v[0]}" for k, v in e.message_dict.items())) from None
        offices = ", ".join(sorted(o.code for o in key.offices.all())) or "all of the user's"
        self.stderr.write(
            f"key {key.prefix} for {user.username}: scope {key.scope}, offices {offices}.\n"
            "The key is printed below once; store it now — only its hash is kept."
        )
        self.stdout.write(raw)

    def _list(self, options) -> None:
        qs = ApiKey.objects.select_related("user").prefetch_related("offices").order_by("created_at", "id")
        if options["user"]:
            qs = qs.filter(user__username=options["user"])
        if not options["all"]:
            qs = qs.filter(revoked_at__isnull=True)
        fmt = "{:<6}{:<16}{:<14}{:<7}{:<18}{:<18}{:<18}{}"
        self.stdout.write(
            fmt.format("id", "prefix", "user", "scope", "offices", "created", "last used", "name")
        )
        for k in qs:
            offices = ",".join(sorted(o.code for o in k.offices.all())) or "*"
            state = " (revoked)" if k.revoked_at else ""
            self.stdout.write(
                fmt.format(
                    k.pk,
                    k.prefix,
                    k.user.username[:13],
                    k.scope,
                    offices[:17],
                    _when(k.created_at),
                    _when(k.last_used_at),
                    k.name + state,
                )
            )

    def _revoke(self, options) -> None:
        key = find_key(options["key"])
        if key is None:
            raise CommandError(f"no such key: {options['key']}")
        if revoke_key(key):
            self.stdout.write(f"revoked {key.prefix} ({key.user.username})")
        else:
            self.stdout.write(f"{key.prefix} was already revoked")


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"
