      * Customer export written nightly by an AS/400 job (cp037, fixed 80-byte records).
       01  CUST-EXPORT.
           05  CUS-NO              PIC 9(7).
           05  CUS-NAME            PIC X(30).
           05  BALANCE             PIC S9(9)V99 COMP-3.
           05  OVERDUE-DAYS        PIC S9(3).
           05  PHONES              OCCURS 2 TIMES.
               10  PHONE           PIC X(15).
           05  FILLER              PIC X(4).
