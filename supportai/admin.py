from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db import models, router, transaction
from django.db.models import QuerySet
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.http import HttpRequest
from django.utils.text import capfirst

from supportai.admin_mixins import (
    GuardedDeleteModelAdmin,
    TenantScopedAdminMixin,
    TenantScopedModelAdmin,
    forget_tenant_ids,
)
from supportai.api_keys import api_key_create, api_key_revoke
from supportai.identity import identity_secret_rotate
from supportai.memberships import (
    Actor,
    MembershipRefused,
    membership_change_role,
    membership_create,
    membership_delete,
    membership_delete_many,
    membership_refusal,
    user_deactivate_many,
    user_removal_refusal,
)
from supportai.models import MANAGER_ROLES, EndUser, Membership, Role, Tenant, TenantApiKey
from supportai.selectors import tenant_ids_for_user

admin.site.site_header = "SupportAI administration"
admin.site.site_title = "SupportAI"


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    tenant_field = "pk"
    list_display = ("name", "slug", "timezone", "locale", "monthly_llm_budget_usd", "is_active")
    search_fields = ("name", "slug")
    readonly_fields = ("public_key", "identity_secret_rotated_at", "created_at")
    actions = ["rotate_identity_secret"]

    def _object_tenant_id(self, obj: models.Model) -> int | None:
        return obj.pk

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        # A deactivated tenant is hidden from its own staff, so only a superuser could switch it back on.
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else (*fields, "is_active")

    @admin.action(description="Rotate the identity-verification secret (shown once)", permissions=["change"])
    def rotate_identity_secret(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        managed = self._managed_tenant_ids(request)
        for tenant in queryset:
            if not request.user.is_superuser and tenant.pk not in managed:
                raise PermissionDenied("You can only rotate secrets of tenants you manage.")
            secret = identity_secret_rotate(tenant=tenant)
            messages.warning(
                request, f"New identity secret for {tenant.name} — copy it now, it is not shown again: {secret}"
            )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return request.user.is_superuser

    def get_deleted_objects(
        self, objs: Iterable[Tenant], request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        """What deleting tenants takes, counted per kind of row instead of listed row by row (a tenant
        holds tens of thousands of chunks and keyword-index rows). Everything of a tenant goes with it,
        and only superusers delete tenants, so no per-model delete permission is asked: bookings,
        events and other rows that only services write are read-only on their own admin pages."""
        tenants = list(objs)
        collector = Collector(using=router.db_for_write(Tenant))
        try:
            collector.collect(tenants)
        except ProtectedError as error:
            return [], {}, set(), _described(error.protected_objects)
        except RestrictedError as error:
            return [], {}, set(), _described(error.restricted_objects)
        counts: Counter[str] = Counter()
        for model, rows in collector.data.items():
            counts[str(model._meta.verbose_name_plural)] += len(rows)
        for queryset in collector.fast_deletes:
            counts[str(queryset.model._meta.verbose_name_plural)] += queryset.count()
        return _described(tenants), dict(counts), set(), []


def _described(rows: Iterable[models.Model]) -> list[str]:
    return [f"{capfirst(row._meta.verbose_name)}: {row}" for row in rows]


class MembershipAdminForm(forms.ModelForm):
    """Refuses, as a form error, what ``supportai.memberships`` would refuse; ``actor`` is set per request."""

    actor: Actor = None

    class Meta:
        model = Membership
        fields = ("user", "tenant", "role")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        tenant = cleaned.get("tenant") if self.instance.pk is None else self.instance.tenant
        role = cleaned.get("role")
        if tenant is not None and role:
            current = self.instance if self.instance.pk is not None else None
            refusal = membership_refusal(actor=self.actor, tenant=tenant, current=current, role=Role(role))
            if refusal is not None:
                raise forms.ValidationError(refusal.value)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(GuardedDeleteModelAdmin, TenantScopedModelAdmin):
    """Every write goes through ``supportai.memberships``; a refusal is shown and changes nothing."""

    form = MembershipAdminForm
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("tenant", "user")
    search_fields = ("user__username", "user__email")

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> Any:
        # Moving a membership to another user or tenant would bypass the owner rules: remove and add instead.
        return ("user", "tenant", "created_at") if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def formfield_for_foreignkey(self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "user" and not request.user.is_superuser:
            managed = tenant_ids_for_user(user=request.user, roles=MANAGER_ROLES)
            field.queryset = get_user_model().objects.filter(memberships__tenant_id__in=managed).distinct()
        return field

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            membership_change_role(actor=request.user, tenant=obj.tenant, membership_id=obj.pk, role=obj.role)
        else:
            created = membership_create(actor=request.user, tenant=obj.tenant, user=obj.user, role=obj.role)
            obj.pk, obj.created_at = created.pk, created.created_at
        forget_tenant_ids(request)  # where the page goes next depends on the user's own memberships

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        membership_delete(actor=request.user, tenant=obj.tenant, membership_id=obj.pk)
        forget_tenant_ids(request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        membership_delete_many(actor=request.user, memberships=queryset.select_related("tenant"))
        forget_tenant_ids(request)

    def deletion_refusal(self, request: HttpRequest, queryset: QuerySet[Membership]) -> str | None:
        try:
            with transaction.atomic():
                # Checked by deleting inside a transaction rolled back on purpose: the rows are checked
                # one after another, so removing every owner at once is caught too.
                membership_delete_many(actor=request.user, memberships=queryset.select_related("tenant"))
                transaction.set_rollback(True)
        except MembershipRefused as refused:
            return str(refused)
        return None


class StaffUserChangeForm(UserChangeForm):
    def clean_is_active(self) -> bool:
        is_active = bool(self.cleaned_data.get("is_active"))
        if self.instance.pk is not None and self.instance.is_active and not is_active:
            refusal = user_removal_refusal(user_ids={self.instance.pk})
            if refusal is not None:
                raise forms.ValidationError(refusal)
        return is_active


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class StaffUserAdmin(GuardedDeleteModelAdmin, UserAdmin):
    """Django's User admin, except that a tenant's last active owner is neither deleted nor deactivated
    (``supportai.memberships.user_removal_refusal``), one at a time or in bulk; the refusal names the
    user and the tenant."""

    form = StaffUserChangeForm
    actions = ["delete_selected", "deactivate_selected"]

    def deletion_refusal(self, request: HttpRequest, queryset: QuerySet[Any]) -> str | None:
        return user_removal_refusal(user_ids=set(queryset.values_list("pk", flat=True)))

    @admin.action(description="Deactivate selected users", permissions=["change"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """All the selected users or, when that would leave a tenant with no active owner, none."""
        try:
            count = user_deactivate_many(user_ids=set(queryset.values_list("pk", flat=True)))
        except MembershipRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return
        self.message_user(request, f"Deactivated {count} user(s).")


@admin.register(EndUser)
class EndUserAdmin(TenantScopedModelAdmin):
    list_display = ("__str__", "tenant", "email", "phone", "email_verified", "created_at", "last_seen_at")
    list_filter = ("email_verified", "phone_verified")
    list_select_related = ("tenant",)
    search_fields = ("email", "full_name", "external_id", "phone")


@admin.register(TenantApiKey)
class TenantApiKeyAdmin(TenantScopedModelAdmin):
    list_display = ("name", "tenant", "prefix", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("tenant",)
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    fields = ("tenant", "name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke_keys"]

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Keys are minted by the service; the raw key is shown once in a message and never again."""
        if not request.user.is_superuser and obj.tenant_id not in self._managed_tenant_ids(request):
            raise PermissionDenied("You can only create keys for tenants you manage.")
        issued = api_key_create(tenant=obj.tenant, name=obj.name, created_by=request.user)
        obj.pk = issued.api_key.pk
        obj.prefix = issued.api_key.prefix
        messages.warning(request, f"Copy this API key now; it will not be shown again: {issued.raw_key}")

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[TenantApiKey]) -> None:
        """All the selected keys or, when one is of a tenant the user does not manage, none: skipping it
        would report the rest as revoked while that key still works."""
        api_keys = list(queryset.select_related("tenant"))
        managed = self._managed_tenant_ids(request)
        if not request.user.is_superuser and any(api_key.tenant_id not in managed for api_key in api_keys):
            raise PermissionDenied("You can only revoke keys of tenants you manage.")
        for api_key in api_keys:
            api_key_revoke(tenant=api_key.tenant, api_key_id=api_key.pk)
        self.message_user(request, f"Revoked {len(api_keys)} key(s).")
