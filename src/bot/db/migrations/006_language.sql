-- The language of a customer: their explicit choice (the Language button) apart from the language
-- their Discord reports. users.locale defaulted to 'en' for everyone, so it could not tell "chose
-- English" from "never chose"; it is replaced by
--   locale_choice  'en' / 'ar' once the customer chose, NULL while their Discord's language decides
--   last_locale    the Discord locale code of their latest interaction (for messages sent outside
--                  an interaction: order channel posts, DMs, job notices), NULL until seen.
-- Existing rows: 'ar' could only come from the Language button, so it stays a choice; 'en' was
-- the default for everyone and becomes "not chosen".
ALTER TABLE users ADD COLUMN locale_choice TEXT CHECK (locale_choice IN ('en', 'ar'));
ALTER TABLE users ADD COLUMN last_locale TEXT CHECK (length(last_locale) <= 16);
UPDATE users SET locale_choice = 'ar' WHERE locale = 'ar';
ALTER TABLE users DROP COLUMN locale;

-- Plans get an Arabic name beside the English one (as payment methods have), shown to customers
-- who read Arabic; empty means "use the English name".
ALTER TABLE plans ADD COLUMN name_ar TEXT NOT NULL DEFAULT '' CHECK (length(name_ar) <= 64);

-- The payment steps now say all there is to say (the reference only if the transfer has a note
-- field; the number or IPA in its own field below the steps). The extra instructions seeded by 002
-- repeat the old steps ("write your order reference in the note", "the number above"): cleared
-- where an admin has not changed them.
UPDATE payment_methods SET instructions_en = '', instructions_ar = ''
WHERE instructions_en LIKE 'Send the exact amount to the % above and write your order reference in the note.'
  AND instructions_ar LIKE 'حوّل المبلغ بالضبط إلى % أعلاه واكتب رقم الطلب في الملاحظة.';
