"""企业微信 (WeCom) channel: the AI bot for staff, the message archive for residents, handoffs.

Only this package (under bot/) imports the WeCom SDKs (`aibot` from wecom-aibot-python-sdk, the
Finance SDK shared library from pyweworkfinance); install them with `pip install gridbot[wecom]`.
"""
