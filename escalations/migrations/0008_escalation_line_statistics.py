# Multivariate statistics of (tenant, status, mode): without them PostgreSQL multiplies the three
# columns' frequencies as if independent, so a big tenant's waiting line (its pending live escalations)
# is estimated tens of times too long, and the places behind a change (selectors.places_between) were
# read through the index of every tenant's open escalations (escalation_one_open_per_conversation)
# instead of ranges of this tenant's. The MCV list holds the combinations actually there; ANALYZE
# fills it now instead of at autovacuum's next pass.

from django.db import migrations

STATISTICS = "escalation_tenant_status_mode"


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0007_policy_receivers_switched_off"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                f"CREATE STATISTICS {STATISTICS} (mcv) ON tenant_id, status, mode FROM escalations_escalation",
                "ANALYZE escalations_escalation",
            ],
            reverse_sql=[f"DROP STATISTICS {STATISTICS}"],
        ),
    ]
