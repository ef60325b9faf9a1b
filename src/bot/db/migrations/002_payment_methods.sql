-- The five Egyptian payment methods. Account numbers start empty; admins fill them in.
INSERT INTO payment_methods (code, name_en, name_ar, account, instructions_en, instructions_ar, enabled, sort_order,
                             updated_at)
VALUES
    ('vodafone_cash', 'Vodafone Cash', 'فودافون كاش', '',
     'Send the exact amount to the Vodafone Cash number above and write your order reference in the note.',
     'حوّل المبلغ بالضبط إلى رقم فودافون كاش أعلاه واكتب رقم الطلب في الملاحظة.', 1, 1, 0),
    ('orange_cash', 'Orange Cash', 'أورنج كاش', '',
     'Send the exact amount to the Orange Cash number above and write your order reference in the note.',
     'حوّل المبلغ بالضبط إلى رقم أورنج كاش أعلاه واكتب رقم الطلب في الملاحظة.', 1, 2, 0),
    ('etisalat_cash', 'Etisalat/e& Cash', 'اتصالات كاش (e&)', '',
     'Send the exact amount to the e& Cash number above and write your order reference in the note.',
     'حوّل المبلغ بالضبط إلى رقم اتصالات كاش أعلاه واكتب رقم الطلب في الملاحظة.', 1, 3, 0),
    ('we_pay', 'WE Pay', 'وي باي', '',
     'Send the exact amount to the WE Pay number above and write your order reference in the note.',
     'حوّل المبلغ بالضبط إلى رقم وي باي أعلاه واكتب رقم الطلب في الملاحظة.', 1, 4, 0),
    ('instapay', 'InstaPay', 'إنستاباي', '',
     'Send the exact amount to the InstaPay address above and write your order reference in the note.',
     'حوّل المبلغ بالضبط إلى عنوان إنستاباي أعلاه واكتب رقم الطلب في الملاحظة.', 1, 5, 0);
