from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from rest_framework.authtoken.models import TokenProxy

from accounts.models import ApiToken, User
from billing.signals import plan_limits_changed


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "plan")


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ("email",)
    list_display = ("email", "plan", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("plan", "is_staff", "is_active")
    list_select_related = ("plan",)
    search_fields = ("email",)
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password", "plan")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "plan", "password1", "password2")}),
    )

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "plan" in form.changed_data:
            plan_limits_changed.send(sender=User, plan_id=None, user_ids=[obj.pk])


# DRF's token admin showed every key in plaintext; tokens are ApiTokens now, stored hashed.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are looked at and revoked (deleted) here; never made here, and their secret is
    nowhere to show: only its digest is stored, and that stays off the page too."""

    list_display = ("user", "name", "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__email", "name")
    fields = ("user", "name", "created_at", "last_used_at")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
