import getpass

from django.core.management.base import BaseCommand, CommandError

from kesu.org.choices import Role
from kesu.org.models import User


class Command(BaseCommand):
    help = "创建公司系统管理员账号。Create a company administrator account."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="login name (default: admin)")
        parser.add_argument("--password", help="password (asked for if not given)")

    def handle(self, *args, **options):
        username = options["username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"用户 {username} 已存在。User {username} already exists.")
        password = options["password"] or getpass.getpass("password: ")
        if len(password) < 8:
            raise CommandError("密码至少 8 位。The password needs at least 8 characters.")
        User.objects.create_superuser(username=username, password=password, role=Role.ADMIN)
        self.stdout.write(f"created administrator {username}")
