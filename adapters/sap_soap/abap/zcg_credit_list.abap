*&---------------------------------------------------------------------*
*& ZCG_CREDIT_LIST - credit masters (KNKK) of a range of customers
*&---------------------------------------------------------------------*
*& TEMPLATE TO REVIEW. Written by CreditGuard as documentation for the
*& SAP administrator who creates the function; it has not been activated
*& or run on an SAP system. Check it against your release (ABAP 7.40 SP08
*& or later syntax), naming rules and authorization concept first.
*&
*& Purpose: CreditGuard's SAP adapter (source kind "sap_soap",
*& credit_list_service = true) reads the credit masters of a page of
*& customers with one call per credit control area, instead of one
*& ZFI_CREDIT_DETAIL call per customer. Each row is the ZSFI013 row
*& ZFI_CREDIT_DETAIL returns for that customer and area: both functions
*& must compute every field alike (same texts, same amount format), or
*& CreditGuard sees a change where there is none. After activation,
*& compare both for a few customers (SE37 test or the web services).
*&
*& Tables and fields read:
*&   T001  BUKRS, KKBER            credit control area of the company code
*&   T014  KKBER, WAERS            currency of the credit control area
*&   KNKK  KUNNR, KKBER, KNKLI, KLIMK, SKFOR, SSOBL, ABSBT, CTLPC, CRBLB,
*&         SBGRP, GRUPP, KDGRP, SBDAT, DTREV, NXTRV, KRAUS, DBPAY, REVDB,
*&         DBRTG, DBMON, DBEKR, DBWAE   credit master per customer and area
*&   KNA1  KUNNR, NAME1            customer name
*&   KNB1  KUNNR, BUKRS, ZTERM     payment terms in the company code
*&   S066  KNKLI, KKBER, OEIKW     open orders (credit value)
*&   S067  KNKLI, KKBER, OLIKW, OFAKW   open deliveries, open billing docs
*& Classic SD credit management (ECC; S/4HANA without SAP Credit
*& Management). With FIN-FSCM-CR the credit data are in UKMBP_CMS_SGM and
*& this function, like ZFI_CREDIT_DETAIL, does not apply.
*&
*& Semantics: the KNKK rows of the customers in range KUNNR in credit
*& control area KKBER (empty: T001-KKBER of company code BUKRS), ascending
*& by customer number, at most MAXROWS rows (0: all). A customer without
*& a credit master in the area is simply absent (no message). RETURN is
*& initial on success; type E when no credit control area is given or
*& assigned (ZCG 001) or the user may not display it (ZCG 002).
*& CreditGuard sends KUNNR = one line I BT <first> <last> per page and
*& MAXROWS = the page size (default 100: keep the range table small).
*&
*& Amounts (CHAR25) are written like WRITE ... CURRENCY <credit currency>
*& with the sign in front and the number format of country US
*& (1,234,567.89; JPY without decimals): the format CreditGuard parses.
*& Make ZFI_CREDIT_DETAIL and this function use the same format.
*&
*& Objects to create:
*&   * function group, e.g. ZCG_CREDIT; function module ZCG_CREDIT_LIST,
*&     processing type "Remote-Enabled Module";
*&   * structure ZSFI013 if the system has no ZFI_CREDIT_DETAIL (SE11), in
*&     this order: KUNNR (KNKK-KUNNR), NAME1 (CHAR30), KKBER (KNKK-KKBER),
*&     CURRENCY (CHAR5), KLIMK SKFOR SSOBL (CHAR25), KLPRZ (CHAR8),
*&     OPEN_DELIVERY OBLIG ABSBT (CHAR25), CTLPC CRBLB SBGRP GRUPP KDGRP
*&     SBDAT DTREV NXTRV KRAUS DBPAY REVDB DBRTG DBMON (as the KNKK
*&     fields), DBEKR (CHAR25), ZTERM (KNB1-ZTERM);
*&   * web service ZCG_CREDIT_LIST (SE80: "Create Web Service" from the
*&     function module, mc-style names; SOAMANAGER: binding with the same
*&     logon as the other CreditGuard services, stateless). Export its WSDL
*&     and put it in CreditGuard's wsdl_dir as zcg_credit_list.wsdl.
*&---------------------------------------------------------------------*
FUNCTION zcg_credit_list.
*"----------------------------------------------------------------------
*"*"Local Interface:
*"  IMPORTING
*"     VALUE(BUKRS) TYPE  BUKRS
*"     VALUE(KKBER) TYPE  KKBER OPTIONAL
*"     VALUE(MAXROWS) TYPE  INT4 DEFAULT 0
*"  EXPORTING
*"     VALUE(RETURN) TYPE  BAPIRETURN1
*"  TABLES
*"      KUNNR STRUCTURE  BAPICUSTOMER_IDRANGE
*"      ZSFI013 STRUCTURE  ZSFI013
*"----------------------------------------------------------------------
  CONSTANTS lc_number_format TYPE land1 VALUE 'US'. " T005X: 1,234,567.89

  TYPES: BEGIN OF ty_name,
           kunnr TYPE kna1-kunnr,
           name1 TYPE kna1-name1,
         END OF ty_name,
         BEGIN OF ty_terms,
           kunnr TYPE knb1-kunnr,
           zterm TYPE knb1-zterm,
         END OF ty_terms,
         BEGIN OF ty_open,
           knkli  TYPE knkk-knkli,
           amount TYPE knkk-klimk,
         END OF ty_open.

  DATA: lr_kunnr TYPE RANGE OF kunnr,
        lr_knkli TYPE RANGE OF knkli,
        lt_names TYPE HASHED TABLE OF ty_name WITH UNIQUE KEY kunnr,
        lt_terms TYPE HASHED TABLE OF ty_terms WITH UNIQUE KEY kunnr,
        lt_open  TYPE HASHED TABLE OF ty_open WITH UNIQUE KEY knkli,
        ls_open  TYPE ty_open,
        lv_kkber TYPE knkk-kkber,
        lv_waers TYPE t014-waers,
        lv_dbwae TYPE knkk-dbwae,
        lv_sales TYPE knkk-klimk,  " open sales values (S066 + S067)
        lv_oblig TYPE knkk-klimk,  " total commitment
        lv_pct   TYPE p LENGTH 8 DECIMALS 2.

  CLEAR: return, zsfi013[].

* 1. The credit control area: as given, else the company code's
  lv_kkber = kkber.
  IF lv_kkber IS INITIAL.
    SELECT SINGLE kkber FROM t001 INTO @lv_kkber WHERE bukrs = @bukrs.
  ENDIF.
  IF lv_kkber IS INITIAL.
    return = VALUE #( type = 'E' id = 'ZCG' number = '001'
                      message = |No credit control area given or assigned to company code { bukrs }|
                      message_v1 = bukrs ).
    RETURN.
  ENDIF.
* FD32 display authorization for the area (check the object in SU21)
  AUTHORITY-CHECK OBJECT 'F_KNKA_KKB'
    ID 'KKBER' FIELD lv_kkber
    ID 'ACTVT' FIELD '03'.
  IF sy-subrc <> 0.
    return = VALUE #( type = 'E' id = 'ZCG' number = '002'
                      message = |No authorization to display credit control area { lv_kkber }|
                      message_v1 = lv_kkber ).
    RETURN.
  ENDIF.
  SELECT SINGLE waers FROM t014 INTO @lv_waers WHERE kkber = @lv_kkber.

* 2. The credit masters in the range, ascending by customer, at most MAXROWS
  lr_kunnr = CORRESPONDING #( kunnr[] ).
  SELECT kunnr, knkli, klimk, skfor, ssobl, absbt, ctlpc, crblb, sbgrp, grupp,
         kdgrp, sbdat, dtrev, nxtrv, kraus, dbpay, revdb, dbrtg, dbmon, dbekr, dbwae
    FROM knkk
    INTO TABLE @DATA(lt_knkk)
    UP TO @maxrows ROWS
    WHERE kkber = @lv_kkber
      AND kunnr IN @lr_kunnr
    ORDER BY kunnr.
  IF lt_knkk IS INITIAL.
    RETURN.                      " no credit master in the range: empty list, no message
  ENDIF.

* 3. Names, payment terms and open sales values of these customers
  SELECT kunnr, name1 FROM kna1
    INTO TABLE @lt_names
    FOR ALL ENTRIES IN @lt_knkk
    WHERE kunnr = @lt_knkk-kunnr.
  SELECT kunnr, zterm FROM knb1
    INTO TABLE @lt_terms
    FOR ALL ENTRIES IN @lt_knkk
    WHERE kunnr = @lt_knkk-kunnr
      AND bukrs = @bukrs.
  lr_knkli = VALUE #( FOR <k> IN lt_knkk ( sign = 'I' option = 'EQ' low = <k>-knkli ) ).
  SORT lr_knkli BY low.
  DELETE ADJACENT DUPLICATES FROM lr_knkli COMPARING low.
* all periods of the info structures (no credit horizon), in credit currency
  SELECT knkli, SUM( oeikw ) AS amount FROM s066
    INTO TABLE @DATA(lt_s066)
    WHERE kkber = @lv_kkber
      AND knkli IN @lr_knkli
    GROUP BY knkli.
  SELECT knkli, SUM( olikw ) AS olikw, SUM( ofakw ) AS ofakw FROM s067
    INTO TABLE @DATA(lt_s067)
    WHERE kkber = @lv_kkber
      AND knkli IN @lr_knkli
    GROUP BY knkli.
  LOOP AT lt_s066 ASSIGNING FIELD-SYMBOL(<s066>).
    ls_open = VALUE #( knkli = <s066>-knkli amount = <s066>-amount ).
    COLLECT ls_open INTO lt_open.
  ENDLOOP.
  LOOP AT lt_s067 ASSIGNING FIELD-SYMBOL(<s067>).
    ls_open = VALUE #( knkli = <s067>-knkli amount = <s067>-olikw + <s067>-ofakw ).
    COLLECT ls_open INTO lt_open.
  ENDLOOP.

* 4. One ZSFI013 row per credit master, as ZFI_CREDIT_DETAIL fills it
  LOOP AT lt_knkk ASSIGNING FIELD-SYMBOL(<knkk>).
    lv_sales = VALUE #( lt_open[ knkli = <knkk>-knkli ]-amount OPTIONAL ).
    lv_oblig = <knkk>-skfor + <knkk>-ssobl + lv_sales.
    lv_pct = COND #( WHEN <knkk>-klimk <> 0 THEN lv_oblig * 100 / <knkk>-klimk ELSE 0 ).
    lv_dbwae = COND #( WHEN <knkk>-dbwae IS INITIAL THEN lv_waers ELSE <knkk>-dbwae ).
    APPEND VALUE #(
      kunnr         = <knkk>-kunnr
      name1         = VALUE #( lt_names[ kunnr = <knkk>-kunnr ]-name1 OPTIONAL )
      kkber         = lv_kkber
      currency      = lv_waers
      klimk         = |{ <knkk>-klimk CURRENCY = lv_waers SIGN = LEFT COUNTRY = lc_number_format }|
      skfor         = |{ <knkk>-skfor CURRENCY = lv_waers SIGN = LEFT COUNTRY = lc_number_format }|
      ssobl         = |{ <knkk>-ssobl CURRENCY = lv_waers SIGN = LEFT COUNTRY = lc_number_format }|
      klprz         = |{ lv_pct DECIMALS = 2 SIGN = LEFT }|
      open_delivery = |{ lv_sales CURRENCY = lv_waers SIGN = LEFT COUNTRY = lc_number_format }|
      oblig         = |{ lv_oblig CURRENCY = lv_waers SIGN = LEFT COUNTRY = lc_number_format }|
      absbt         = |{ <knkk>-absbt CURRENCY = lv_waers SIGN = LEFT COUNTRY = lc_number_format }|
      ctlpc         = <knkk>-ctlpc
      crblb         = <knkk>-crblb
      sbgrp         = <knkk>-sbgrp
      grupp         = <knkk>-grupp
      kdgrp         = <knkk>-kdgrp
      sbdat         = <knkk>-sbdat
      dtrev         = <knkk>-dtrev
      nxtrv         = <knkk>-nxtrv
      kraus         = <knkk>-kraus
      dbpay         = <knkk>-dbpay
      revdb         = <knkk>-revdb
      dbrtg         = <knkk>-dbrtg
      dbmon         = <knkk>-dbmon
      dbekr         = |{ <knkk>-dbekr CURRENCY = lv_dbwae SIGN = LEFT COUNTRY = lc_number_format }|
      zterm         = VALUE #( lt_terms[ kunnr = <knkk>-kunnr ]-zterm OPTIONAL )
    ) TO zsfi013.
  ENDLOOP.

ENDFUNCTION.
