{
    "name": "Live Commerce CRM: benchmark baseline",
    "summary": "Baseline routes with the webhook's routing options, for bench/run.sh only",
    "version": "18.0.1.0.0",
    "license": "LGPL-3",
    "depends": ["web", "live_commerce_crm"],
    "installable": True,
}
