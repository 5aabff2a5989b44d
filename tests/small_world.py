"""A few hand-written rows in the shared data's layout, for running the example
configs on a folder other than ``../shared/data`` (as they will be on held-back data).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

MAVEN = "crm/maven_crm_sales_opportunities"
RAVEN = "product_usage/ravenstack_saas"
AMI = "transcripts/ami_product_design_meetings_qmsum"
SF = "crm/salesforce_sample_data"

PIPELINE = """
    opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value
    OP1,Ann Agent,GTXPro,Acme Corporation,Engaging,2017-01-16,,
    OP2,Bo Agent,MG Special,Initrode,Won,2017-01-02,2017-02-01,"1,055"
    OP3,Ann Agent,MG Special,,Prospecting,,,
    OP4,Bo Agent,MG Special,Initrode,Lost,2017-01-02,2017-02-30,0
"""

CSV_FILES = {
    f"{MAVEN}/accounts.csv": """
        account,sector,year_established,revenue,employees,office_location,subsidiary_of
        Acme Corporation,technolgy,1996,1100.04,2822,United States,
        Initrode,retail,2001,12.5,40,Kenya,Acme Corporation
    """,
    f"{MAVEN}/products.csv": """
        product,series,sales_price
        GTX Pro,GTX,4821
        MG Special,MG,55
    """,
    f"{MAVEN}/sales_teams.csv": """
        sales_agent,manager,regional_office
        Ann Agent,Max Manager,Central
        Bo Agent,Max Manager,Central
    """,
    f"{MAVEN}/sales_pipeline.csv": PIPELINE,
    "joined/sales_pipeline_shifted.csv": PIPELINE.replace("2017-", "2024-"),
    "joined/people.csv": """
        name,email,role,manager,team,time_zone
        Ann Agent,ann@example.com,rep,Max Manager,Central,America/Chicago
        Bo Agent,bo@example.com,rep,Max Manager,Central,America/Chicago
        Max Manager,max@example.com,manager,,Central,America/Chicago
    """,
    "joined/account_crosswalk.csv": """
        crm_account,product_account_id
        Acme Corporation,A-1
    """,
    "joined/call_schedule.csv": """
        meeting_id,crm_account,sales_agent,start_at,duration_minutes
        M1,Acme Corporation,Ann Agent,2024-10-14T10:00:00-05:00,30
    """,
    f"{RAVEN}/ravenstack_accounts.csv": """
        account_id,account_name,industry,country,signup_date,referral_source,plan_tier,seats,is_trial,churn_flag
        A-1,Company_1,EdTech,US,2024-10-16,partner,Basic,9,False,False
        A-9,Company_9,FinTech,IN,2023-08-17,other,Pro,18,False,True
    """,
    f"{RAVEN}/ravenstack_subscriptions.csv": """
        subscription_id,account_id,start_date,end_date,plan_tier,seats,mrr_amount,arr_amount,is_trial,upgrade_flag,downgrade_flag,churn_flag,billing_frequency,auto_renew_flag
        S-1,A-1,2024-01-01,,Basic,9,300,3600,False,False,False,False,monthly,True
        S-9,A-9,2023-09-01,2024-04-12,Pro,18,1200,14400,False,False,False,True,annual,False
    """,
    f"{RAVEN}/ravenstack_feature_usage.csv": """
        usage_id,subscription_id,usage_date,feature_name,usage_count,usage_duration_secs,error_count,is_beta_feature
        U-1,S-1,2024-11-01,feature_1,9,500,0,False
        U-1,S-9,2024-01-05,feature_2,3,100,1,True
    """,
    f"{RAVEN}/ravenstack_support_tickets.csv": """
        ticket_id,account_id,submitted_at,closed_at,resolution_time_hours,priority,first_response_time_minutes,satisfaction_score,escalation_flag
        T-1,A-1,2024-11-02,2024-11-03 03:00:00,27.0,high,74,,False
    """,
    f"{RAVEN}/ravenstack_churn_events.csv": """
        churn_event_id,account_id,churn_date,reason_code,refund_amount_usd,preceding_upgrade_flag,preceding_downgrade_flag,is_reactivation,feedback_text
        C-9,A-9,2024-04-12,budget,0.0,False,False,False,too expensive
    """,
    f"{AMI}/turns.csv": """
        meeting_id,team_series,turn_index,speaker_role,text
        M1,M,0,Project Manager,Shall we start?
        M1,M,1,Marketing,"Yes, let's."
    """,
}

MEETING = {
    "topic_list": [{"topic": "Introductions", "relevant_text_span": [["0", "1"]]}],
    "general_query_list": [
        {"query": "Summarize the whole meeting.", "answer": "A short kick-off."}
    ],
    "specific_query_list": [],
    "meeting_transcripts": [
        {"speaker": "Project Manager", "content": "Shall we start?"},
        {"speaker": "Marketing", "content": "Yes, let's."},
    ],
}


def _tree(kind: str, *records: dict[str, object]) -> dict[str, object]:
    return {
        "records": [
            {"attributes": {"type": kind, "referenceId": f"{kind}Ref{n}"}, **record}
            for n, record in enumerate(records, start=1)
        ]
    }


JSON_FILES = {
    f"{AMI}/meetings/M1.json": MEETING,
    f"{SF}/lwc_recipes_Accounts.json": _tree("Account", {"Name": "Alpha Dynamics"}),
    f"{SF}/lwc_recipes_Contacts.json": _tree(
        "Contact", {"AccountId": "@AccountRef1", "FirstName": "Amy", "LastName": "Li"}
    ),
    f"{SF}/lwc_recipes_Opportunities.json": _tree(
        "Opportunity",
        {"AccountId": "@AccountRef1", "Name": "Pilot", "StageName": "Closed Won"},
    ),
    f"{SF}/plugin_data_tree_commonChild_Account.json": _tree("Account", {"Name": "T"}),
    f"{SF}/plugin_data_tree_commonChild_Opportunity.json": _tree(
        "Opportunity", {"Name": "O", "AccountId": "@AccountRef1"}
    ),
    f"{SF}/plugin_data_tree_commonChild_Task.json": _tree(
        "Task", {"Subject": "Call back", "WhatId": "@OpportunityRef1"}
    ),
    f"{SF}/soql_query_response_one.json": {
        "response": {
            "done": True,
            "records": [
                {
                    "attributes": {"type": "Account", "url": "/x/Account/001X"},
                    "Name": "GenePoint",
                    "Contacts": {
                        "records": [
                            {
                                "attributes": {"type": "Contact", "url": "/x/003X"},
                                "LastName": "Frank",
                            }
                        ]
                    },
                }
            ],
        }
    },
}


def build_small_world(root: Path) -> Path:
    for name, text in CSV_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    for name, document in JSON_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document), encoding="utf-8")
    return root
